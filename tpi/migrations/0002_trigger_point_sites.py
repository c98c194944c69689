"""Ship the catalogue of muscles where trigger points are commonly injected.

SNOMED CT codes are left blank: no verified code list was at hand when this was written, and a wrong
code is worse than none. Staff (or a terminology import) fill them in through the admin.
"""

from django.db import migrations

SITES = [
    # (name, body region)
    ("Frontalis", "head_neck"),
    ("Temporalis", "head_neck"),
    ("Masseter", "head_neck"),
    ("Occipitalis", "head_neck"),
    ("Suboccipital muscles", "head_neck"),
    ("Splenius capitis", "head_neck"),
    ("Splenius cervicis", "head_neck"),
    ("Semispinalis capitis", "head_neck"),
    ("Sternocleidomastoid", "head_neck"),
    ("Scalenes", "head_neck"),
    ("Cervical paraspinals", "head_neck"),
    ("Upper trapezius", "shoulder"),
    ("Middle trapezius", "upper_back"),
    ("Lower trapezius", "upper_back"),
    ("Levator scapulae", "shoulder"),
    ("Supraspinatus", "shoulder"),
    ("Infraspinatus", "shoulder"),
    ("Teres minor", "shoulder"),
    ("Teres major", "shoulder"),
    ("Subscapularis", "shoulder"),
    ("Deltoid", "shoulder"),
    ("Rhomboids", "upper_back"),
    ("Serratus anterior", "chest"),
    ("Serratus posterior superior", "upper_back"),
    ("Latissimus dorsi", "upper_back"),
    ("Thoracic paraspinals", "upper_back"),
    ("Pectoralis major", "chest"),
    ("Pectoralis minor", "chest"),
    ("Biceps brachii", "upper_limb"),
    ("Triceps brachii", "upper_limb"),
    ("Wrist and finger extensors", "upper_limb"),
    ("Wrist and finger flexors", "upper_limb"),
    ("Quadratus lumborum", "lower_back"),
    ("Lumbar paraspinals", "lower_back"),
    ("Iliopsoas", "hip_buttock"),
    ("Rectus abdominis", "abdomen"),
    ("Gluteus maximus", "hip_buttock"),
    ("Gluteus medius", "hip_buttock"),
    ("Gluteus minimus", "hip_buttock"),
    ("Piriformis", "hip_buttock"),
    ("Tensor fasciae latae", "hip_buttock"),
    ("Vastus lateralis", "lower_limb"),
    ("Vastus medialis", "lower_limb"),
    ("Hamstrings", "lower_limb"),
    ("Adductor longus", "lower_limb"),
    ("Gastrocnemius", "lower_limb"),
    ("Soleus", "lower_limb"),
    ("Tibialis anterior", "lower_limb"),
    ("Peroneus longus", "lower_limb"),
]


def add_sites(apps, schema_editor):
    TriggerPointSite = apps.get_model("tpi", "TriggerPointSite")
    for name, region in SITES:
        TriggerPointSite.objects.get_or_create(name=name, defaults={"body_region": region})


def remove_sites(apps, schema_editor):
    TriggerPointSite = apps.get_model("tpi", "TriggerPointSite")
    TriggerPointSite.objects.filter(name__in=[name for name, _ in SITES], injections__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("tpi", "0001_initial")]

    operations = [migrations.RunPython(add_sites, remove_sites)]
