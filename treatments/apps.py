from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"

    def ready(self) -> None:
        # Imported once the models are loaded (what ready() is for), not to hide a cycle:
        # these modules import clinic and consultations, which import none of treatments.
        from clinic import hooks
        from treatments import demo

        hooks.register_demo_seed(demo.seed)
        from treatments import timeline

        hooks.register_timeline_provider(timeline.entries)
