"""Words of tpi's vocabulary no patient message may contain (registered in TpiConfig.ready).

Diagnoses a pain clinic treats, the agents injected, and the muscles and regions injected: any of
them in an SMS or email would disclose a diagnosis, a medication or a treated site.
"""

PHI_WORDS = (
    "trigger point", "myofascial", "fibromyalgia", "radiculopathy", "sciatica", "neuropathy", "migraine",
    "tendinitis", "bursitis", "arthritis",
    "lidocaine", "bupivacaine", "ropivacaine", "procaine", "anaesthetic", "anesthetic", "steroid", "corticosteroid",
    "triamcinolone", "kenalog", "dexamethasone", "methylprednisolone", "depo-medrol", "cortisone", "botox",
    "trapezius", "rhomboid", "levator scapulae", "infraspinatus", "supraspinatus", "gluteus", "gluteal",
    "piriformis", "quadratus lumborum", "sternocleidomastoid", "scalene", "lumbar", "cervical", "thoracic",
    "neck", "shoulder", "lower back",
)  # fmt: skip
