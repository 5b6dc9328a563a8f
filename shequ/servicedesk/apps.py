from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the worker asks the eligibility job whether tonight's run is due (it runs the rules
# once a night between 01:00 and 05:00 and returns at once otherwise).
NIGHTLY_CHECK_SECONDS = 600


class ServiceDeskConfig(AppConfig):
    name = "shequ.servicedesk"
    label = "servicedesk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from shequ.cases import worker
        from shequ.servicedesk import eligibility

        job = ("eligibility", eligibility.nightly, NIGHTLY_CHECK_SECONDS)
        if job[0] not in {name for name, _job, _every in worker.PERIODIC}:
            worker.PERIODIC.append(job)
