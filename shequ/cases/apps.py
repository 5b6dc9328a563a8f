from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "shequ.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from shequ.cases import analysis, worker

        # The analysis pages read pre-aggregated rows; the worker keeps them fresh.
        job = ("case_stats", analysis.stats_refresh, 300)
        if job[0] not in {name for name, _job, _every in worker.PERIODIC}:
            worker.PERIODIC.append(job)
