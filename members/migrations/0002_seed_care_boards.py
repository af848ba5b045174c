"""Seed the ICBs of England and the health bodies of the other nations.

Reference data: staff edit it in the admin afterwards. Running this again
creates nothing twice, and it never overwrites a board staff have changed.
"""

from django.db import migrations

NE_YORKS = "North East and Yorkshire"
NORTH_WEST = "North West"
MIDLANDS = "Midlands"
EAST = "East of England"
LONDON = "London"
SOUTH_EAST = "South East"
SOUTH_WEST = "South West"

ENGLAND_ICBS = [
    ("Bath and North East Somerset, Swindon and Wiltshire", SOUTH_WEST),
    ("Bedfordshire, Luton and Milton Keynes", EAST),
    ("Birmingham and Solihull", MIDLANDS),
    ("Black Country", MIDLANDS),
    ("Bristol, North Somerset and South Gloucestershire", SOUTH_WEST),
    ("Buckinghamshire, Oxfordshire and Berkshire West", SOUTH_EAST),
    ("Cambridgeshire and Peterborough", EAST),
    ("Cheshire and Merseyside", NORTH_WEST),
    ("Cornwall and the Isles of Scilly", SOUTH_WEST),
    ("Coventry and Warwickshire", MIDLANDS),
    ("Derby and Derbyshire", MIDLANDS),
    ("Devon", SOUTH_WEST),
    ("Dorset", SOUTH_WEST),
    ("Frimley", SOUTH_EAST),
    ("Gloucestershire", SOUTH_WEST),
    ("Greater Manchester", NORTH_WEST),
    ("Hampshire and Isle of Wight", SOUTH_EAST),
    ("Herefordshire and Worcestershire", MIDLANDS),
    ("Hertfordshire and West Essex", EAST),
    ("Humber and North Yorkshire", NE_YORKS),
    ("Kent and Medway", SOUTH_EAST),
    ("Lancashire and South Cumbria", NORTH_WEST),
    ("Leicester, Leicestershire and Rutland", MIDLANDS),
    ("Lincolnshire", MIDLANDS),
    ("Mid and South Essex", EAST),
    ("Norfolk and Waveney", EAST),
    ("North Central London", LONDON),
    ("North East and North Cumbria", NE_YORKS),
    ("North East London", LONDON),
    ("North West London", LONDON),
    ("Northamptonshire", MIDLANDS),
    ("Nottingham and Nottinghamshire", MIDLANDS),
    ("Shropshire, Telford and Wrekin", MIDLANDS),
    ("Somerset", SOUTH_WEST),
    ("South East London", LONDON),
    ("South West London", LONDON),
    ("South Yorkshire", NE_YORKS),
    ("Staffordshire and Stoke-on-Trent", MIDLANDS),
    ("Suffolk and North East Essex", EAST),
    ("Surrey Heartlands", SOUTH_EAST),
    ("Sussex", SOUTH_EAST),
    ("West Yorkshire", NE_YORKS),
]

WALES_HEALTH_BOARDS = [
    "Aneurin Bevan University Health Board",
    "Betsi Cadwaladr University Health Board",
    "Cardiff and Vale University Health Board",
    "Cwm Taf Morgannwg University Health Board",
    "Hywel Dda University Health Board",
    "Powys Teaching Health Board",
    "Swansea Bay University Health Board",
]

SCOTLAND_NHS_BOARDS = [
    "NHS Ayrshire and Arran",
    "NHS Borders",
    "NHS Dumfries and Galloway",
    "NHS Fife",
    "NHS Forth Valley",
    "NHS Grampian",
    "NHS Greater Glasgow and Clyde",
    "NHS Highland",
    "NHS Lanarkshire",
    "NHS Lothian",
    "NHS Orkney",
    "NHS Shetland",
    "NHS Tayside",
    "NHS Western Isles",
]

NORTHERN_IRELAND_TRUSTS = [
    "Belfast Health and Social Care Trust",
    "Northern Health and Social Care Trust",
    "South Eastern Health and Social Care Trust",
    "Southern Health and Social Care Trust",
    "Western Health and Social Care Trust",
]


def boards():
    for name, region in ENGLAND_ICBS:
        yield f"NHS {name} ICB", "icb", "england", region
    for name in WALES_HEALTH_BOARDS:
        yield name, "lhb", "wales", ""
    for name in SCOTLAND_NHS_BOARDS:
        yield name, "nhs_board", "scotland", ""
    for name in NORTHERN_IRELAND_TRUSTS:
        yield name, "hsc_trust", "northern_ireland", ""


def seed(apps, schema_editor):
    CareBoard = apps.get_model("members", "CareBoard")
    for name, kind, nation, region in boards():
        CareBoard.objects.get_or_create(
            name=name, defaults={"kind": kind, "nation": nation, "region": region}
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
