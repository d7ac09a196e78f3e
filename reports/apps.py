from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        # Imported once the models are loaded (what ready() is for): reports reads clinic,
        # consultations, treatments and aftercare; none of them imports reports.
        from clinic import hooks
        from reports import demo

        hooks.register_demo_seed(demo.seed)
