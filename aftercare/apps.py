from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"

    def ready(self) -> None:
        from aftercare import checks  # noqa: F401  (registers the system checks)
