"""Beat schedules of autopay (editable in the admin, under Periodic tasks):

* "Autopay: schedule new bills" — every 15 minutes, finds new bills of consumers with an active mandate and
  queues their charges;
* "Autopay: retry failed charges" — every hour, settles charges whose gateway transaction was still open and
  retries the FAILED charges whose next retry date has passed.
"""

from django.db import migrations

SCHEDULES = [
    ("Autopay: schedule new bills", "payments.methods.schedule_autopay", 15, "minutes"),
    ("Autopay: retry failed charges", "payments.methods.retry_due", 1, "hours"),
]


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "kwargs": "{}", "enabled": True}
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payment_methods", "0001_payment_methods_mandates_charges"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
