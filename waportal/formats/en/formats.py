"""English dates and numbers, one format everywhere a person reads them.

The month as a word (``Dec 6, 2026, 23:53``): an English reader in the Americas reads ``12/06`` as December and
one elsewhere as June, a written month has no such doubt; a 24-hour clock like the Spanish pages (no
"11:53 p.m."), since the same team reads both languages. ``,`` groups thousands and ``.`` marks decimals
(``1,234.5``). Long and short forms are the same, so pages agree. Machine formats (ISO in the API, CSV
contracts, ``datetime-local`` values, ``data-`` attributes) do not read these.
"""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 0
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
