from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "online"

    def ready(self) -> None:
        # Imported once the models are loaded: these modules import clinic, never the reverse.
        from clinic import hooks as clinic_hooks
        from online import demo, hooks

        clinic_hooks.booking.register(rescheduled=hooks.appointment_moved, cancelled=hooks.appointment_cancelled)
        clinic_hooks.provide_awaiting_confirmation(hooks.awaiting_confirmation)
        clinic_hooks.provide_self_service_path(hooks.self_service_path)
        clinic_hooks.provide_booked_online(hooks.booked_online)
        clinic_hooks.register_demo_seed(demo.seed)
