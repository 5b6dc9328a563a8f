from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from shequ.cases.defaults import install_categories

    install_categories(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
