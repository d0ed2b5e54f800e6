"""Seed the four plans, give every existing organization the free plan, make plan required,
and create the database cache table used by rate limits."""

from django.core.management import call_command
from django.db import migrations, models
import django.db.models.deletion



def seed_plans(apps, schema_editor):
    # The catalogue is plain data; the historical model is passed in.
    from engagex.accounts.plans import plans_ensure

    Plan = apps.get_model("accounts", "Plan")
    Organization = apps.get_model("accounts", "Organization")
    plans_ensure(Plan)
    Organization.objects.filter(plan__isnull=True).update(plan=Plan.objects.get(code="free"))


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS engagex_cache")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_plans_invitations_api_keys")]

    operations = [
        migrations.RunPython(seed_plans, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="organization",
            name="plan",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="organizations",
                to="accounts.plan",
            ),
        ),
        migrations.RunPython(create_cache_table, drop_cache_table),
    ]
