from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"

    def ready(self) -> None:
        from clinic import checks  # noqa: F401  (registers the system checks)
        from clinic.accounts import events, middleware  # noqa: F401  (connect their signal receivers)
