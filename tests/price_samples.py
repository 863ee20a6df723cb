"""Synthetic price files the price tests share (amounts made up for the tests)."""

from __future__ import annotations

# A synthetic file in the layout of the CMS section 508 ASP CSV: title lines, then the
# table. The amounts are made up for the test.
CMS_HEADER = ",".join(
    f'"{name}"'
    for name in (
        "HCPCS Code",
        "Short Description",
        "HCPCS Code Dosage",
        "Payment Limit",
        "Vaccine AWP%",
        "Vaccine Limit",
        "Blood AWP%",
        "Blood Limit",
        "Clotting Factor",
        "Notes",
    )
)
CMS_CSV = f"""\
"Section 508 version of the January 2026 ASP Pricing File"
"Payment allowance limits for Medicare Part B drugs"
""
{CMS_HEADER}
"J1459","Inj privigen 500 mg","500 MG","61.234","","","","","",""
"J1559","Hizentra injection","100 MG","12.5","","","","","",""
"J1561","Gamunex-c/gammaked","500 MG","$58.10","","","","","",""
"J9999","Some other drug","1 ML","3.000","","","","","",""
"J1568","Octagam injection","500 MG","","","","","","","N/A"
"""


CONTRACT_CSV = """\
code,description,billing_unit_mg,rate,site
J1459,Privigen,500,52.10,
J1561,Gamunex-C,500,ASP+8%,
96365,IV infusion first hour,,180.00,infusion_center
96365,IV infusion first hour,,310.00,hospital_outpatient
"""
