from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from shequ.servicedesk.defaults import install_catalogue

    install_catalogue(apps.get_model("servicedesk", "ServiceItem"))


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
