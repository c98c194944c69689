import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0005_rooms_default_location"),
    ]

    operations = [
        migrations.AlterField(
            model_name="room",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="rooms", to="scheduling.location"
            ),
        ),
    ]
