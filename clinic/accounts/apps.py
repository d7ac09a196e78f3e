from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin, as the clinic's own site: unbranded and behind the second factor."""

    default_site = "clinic.accounts.admin_site.ClinicAdminSite"
