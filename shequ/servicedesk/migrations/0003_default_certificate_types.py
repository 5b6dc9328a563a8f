from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from shequ.servicedesk.certificate_defaults import install_certificate_types

    install_certificate_types(apps.get_model("servicedesk", "CertificateType"))


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0002_default_catalogue")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
