from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"

    def ready(self) -> None:
        # Imported once the models are loaded (what ready() is for), not to hide a cycle:
        # photos builds on treatments, consultations and clinic; none of them imports it.
        from django.conf import settings
        from PIL import Image

        from clinic import hooks
        from photos import demo

        # Pillow's own bomb guard at the clinic's limit (it warns above it, refuses above twice it);
        # photos.images turns the warning into a refusal as well.
        Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
        hooks.register_demo_seed(demo.seed)
