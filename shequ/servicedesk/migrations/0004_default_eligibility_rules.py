from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from shequ.servicedesk.eligibility_defaults import install_rules

    install_rules(
        apps.get_model("servicedesk", "EligibilityRule"),
        apps.get_model("servicedesk", "ServiceItem"),
    )


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0003_default_certificate_types")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
