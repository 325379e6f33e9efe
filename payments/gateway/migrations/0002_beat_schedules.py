"""Beat schedules of the gateway jobs (editable in the admin, under Periodic tasks): the status poller every
minute (it only polls transactions whose next poll is due) and the reconciliation every 30 minutes."""

from django.db import migrations

SCHEDULES = (
    ("Poll due gateway transactions", "payments.gateway.poll_due", 1, '{"limit": 100}'),
    ("Reconcile gateway transactions", "payments.gateway.reconcile", 30, '{"limit": 500}'),
)


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes, kwargs in SCHEDULES:
        every, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every, "kwargs": kwargs, "enabled": True}
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0001_gateway_transactions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
