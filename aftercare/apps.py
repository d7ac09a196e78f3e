from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"

    def ready(self) -> None:
        # Imported once the models are loaded (what ready() is for), not to hide a cycle:
        # these modules import clinic, and clinic imports none of them.
        from aftercare import checks, demo, hooks, selectors, services  # noqa: F401  (checks registers the system checks)
        from clinic import hooks as clinic_hooks

        clinic_hooks.booking.register(
            booked=hooks.appointment_booked,
            rescheduled=hooks.appointment_rescheduled,
            cancelled=hooks.appointment_cancelled,
            status_changed=hooks.appointment_status_changed,
        )
        clinic_hooks.provide_appointment_reply(selectors.latest_appointment_reply)
        clinic_hooks.register_deferral_listener(hooks.patient_deferred)
        clinic_hooks.register_calls_to_make(selectors.reschedule_requests_to_call)
        clinic_hooks.provide_questionnaire_sender(services.questionnaire_link_send)
        clinic_hooks.register_demo_seed(demo.seed)
        from aftercare import timeline

        clinic_hooks.register_timeline_provider(timeline.entries)
