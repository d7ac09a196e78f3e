from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consultations"

    def ready(self) -> None:
        # Imported once the models are loaded (what ready() is for), not to hide a cycle:
        # these modules import clinic, and clinic imports none of them.
        from clinic import hooks
        from consultations import demo, eligibility, selectors

        hooks.provide_extraction_clearance(eligibility.patient_cleared_for_extraction)
        hooks.provide_session_preparation(selectors.session_pause_instructions)
        hooks.register_calls_to_make(selectors.held_sessions_to_call)
        hooks.provide_patient_alerts(selectors.patient_alerts)
        hooks.register_demo_seed(demo.seed)
        from consultations import timeline

        hooks.register_timeline_provider(timeline.entries)
