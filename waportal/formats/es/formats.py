"""Spanish dates and numbers, one format everywhere a person reads them (the workspace, the admin's own pages).

Day first with a four-digit year and a 24-hour clock, as Colombian and most Latin-American businesses write them
(``06/12/2026 23:53``); ``.`` groups thousands and ``,`` marks decimals (``1.234,5``), as their spreadsheets and
invoices do (Django's own ``es`` groups with a no-break space, which these users do not write). The long and
the short forms are the same, so a page never mixes "6 de diciembre de 2026 a las 23:53" with "06/12/2026".
Machine formats (ISO in the API, CSV contracts, ``datetime-local`` values, ``data-`` attributes) do not read
these.
"""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j \\d\\e F"
YEAR_MONTH_FORMAT = "F \\d\\e Y"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
