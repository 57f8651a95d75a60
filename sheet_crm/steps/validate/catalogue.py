"""The validation step's messages: code -> severity, problem template, fix template.

The codes are stable; tests and scripts rely on them, and one test per template
(``tests/test_validate_messages.py``) pins the wording the owner reads.
"""

from __future__ import annotations

from ...findings import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note

# code -> (severity, problem template, fix template). Templates are filled with
# str.format; {value} is the cell as typed.
MESSAGES: dict[str, tuple[Severity, str, str]] = {
    # emails
    "email-invalid": (E, "'{value}' is not a valid email address: {reason}", "Correct the address."),
    "email-several": (
        E,
        "The cell holds more than one email address.",
        "Keep one address here and put the other in a column of its own.",
    ),
    "email-typo": (
        W,
        "'{value}' looks like a misspelling of {domain}.",
        "Change it to {suggestion} if that is what the customer meant.",
    ),
    "email-role": (
        W,
        "'{value}' is a shared address ({local}@), not a person's.",
        "Use the person's own address if you have it; drafts to shared inboxes are often ignored.",
    ),
    "email-duplicate": (
        W,
        "The same email is on row {other_row} ({other}).",
        "If this is the same customer, run `sheet-crm dedupe`; if not, correct one of the addresses.",
    ),
    "email-domain-unknown": (
        E,
        "The domain of '{value}' does not receive email: {reason}",
        "Check the part after the @ with the customer.",
    ),
    # phones
    "phone-invalid": (
        E,
        "'{value}' is not a valid phone number for {country}.",
        "Check the number; type it with + and the country code if it is from abroad.",
    ),
    "phone-too-short": (E, "'{value}' is too short to be a phone number.", "Type the full number."),
    "phone-too-long": (E, "'{value}' is too long to be a phone number.", "Check for extra digits."),
    "phone-no-country": (
        E,
        "'{value}' has no country code, and the customer's country is not known.",
        "Type the number with + and the country code, or fill in Country.",
    ),
    "phone-as-number": (
        W,
        "The phone number is stored as a number, so its leading zero or + is lost.",
        "Format the Phone column as text and type {suggestion}.",
    ),
    "phone-fictional": (
        N,
        "This number is in a range reserved for TV, film and examples, so it cannot be a real "
        "customer's number.",
        "Fine in a demo; replace it with the customer's real number.",
    ),
    "sms-landline": (
        W,
        "{why}, but {value} is a landline, which cannot receive text messages.",
        "Add the customer's mobile number, or choose another channel.",
    ),
    "country-unknown": (
        W,
        "'{value}' is not a country sheet-crm knows; phone numbers on this row are read as {country}.",
        "Type the country's name in English or its two-letter code (GB, US, DE ...).",
    ),
    # names
    "name-missing": (
        W,
        "This customer has no name and no company.",
        "Type the first and last name (or the company).",
    ),
    "name-case": (W, "'{value}' is typed in {case}.", "Change it to '{suggestion}'."),
    "name-odd-characters": (
        W,
        "'{value}' does not look like a name (it has digits or an @).",
        "Check the name; an email belongs in the Email column.",
    ),
    "name-maybe-swapped": (
        W,
        "The first name '{first}' looks like a family name and the last name '{last}' like a "
        "given name; they may be swapped.",
        "If so, swap them (first name {last}, last name {first}); otherwise ignore this.",
    ),
    # dates
    "date-invalid": (E, "{problem}.", "Type the date as YYYY-MM-DD, or format the cell as a date."),
    "date-ambiguous": (
        W,
        "'{value}' could be {first} or {second}; it was read as {suggestion}.",
        "Type it as YYYY-MM-DD to be sure, or set 'date order' in Settings.",
    ),
    "date-as-number": (
        N,
        "The date is stored as the number {value}, read as {suggestion}.",
        "Format the column as a date so it shows as one.",
    ),
    "birthday-future": (E, "The birthday {suggestion} is in the future.", "Correct the year."),
    "birthday-implausible": (
        W,
        "The birthday {suggestion} would make the customer over 120.",
        "Correct the year.",
    ),
    "customer-since-future": (W, "'Customer since' ({suggestion}) is in the future.", "Correct the date."),
    "order-future": (
        W,
        "The order is dated {suggestion}, in the future; it is left out of tiers until it is corrected.",
        "Correct the date (often the year).",
    ),
    "order-date-missing": (
        E,
        "The order has no date; it is left out of tiers.",
        "Type the date of the order.",
    ),
    "interaction-future": (
        W,
        "The interaction is dated {suggestion}, in the future.",
        "Correct the date; plan future contacts in Follow up.",
    ),
    "interaction-date-missing": (
        W,
        "The interaction has no date, so it does not count as a contact.",
        "Type the date.",
    ),
    # money and numbers
    "amount-missing": (E, "The order has no amount; it is left out of tiers.", "Type the amount."),
    "amount-invalid": (
        E,
        "'{value}' is not an amount; the order is left out of tiers.",
        "Type a number such as 1234.50.",
    ),
    "amount-negative": (
        W,
        "The amount is negative ({suggestion}); it is counted as a refund.",
        "Nothing to do if it is a refund; otherwise remove the minus sign.",
    ),
    "amount-as-text": (
        N,
        "The amount is typed as text, read as {suggestion}.",
        "Type it as a plain number so the sheet can add it up.",
    ),
    "amount-impossible": (
        E,
        "The amount {shown} cannot be a real amount (it is more than 1,000,000,000,000, or not a "
        "number at all); the order is left out of tiers.",
        "Type the order's real amount. A value like this usually comes from a broken formula, "
        "an export or a stray paste.",
    ),
    "quantity-invalid": (W, "'{value}' is not a quantity.", "Type a whole number."),
    "quantity-impossible": (
        E,
        "The quantity {shown} cannot be a real quantity (it is more than 1,000,000,000,000, or not "
        "a number at all); it is ignored.",
        "Type the real quantity.",
    ),
    "order-id-duplicate": (
        W,
        "Order ID {value} is also on row {other_row}; the order may be counted twice.",
        "Remove the copy, or give each order its own ID.",
    ),
    "satisfaction-invalid": (E, "'{value}' is not a satisfaction score.", "Type a number from 1 to 5."),
    "satisfaction-out-of-range": (
        E,
        "The satisfaction score {shown} is outside the 1-5 (or 0-10) scale; it is ignored.",
        "Type a score from 1 to 5 (or 0 to 10).",
    ),
    # consent and channels
    "consent-unreadable": (
        W,
        "'{value}' is not yes or no; it is read as {reading}.",
        "Type yes or no (y/n, true/false, 1/0, x and ✓ also work).",
    ),
    "channel-unknown": (
        W,
        "'{value}' is not a channel sheet-crm knows; no channel is assumed.",
        "Type one of: email, SMS, phone, letter.",
    ),
    "channel-no-consent": (
        W,
        "The preferred channel is {channel}, but the customer has not opted in to {channel}.",
        "Ask for consent and tick {column}, or choose another channel.",
    ),
    "channel-no-address": (
        W,
        "The preferred channel is {channel}, but there is no {needed} for this customer.",
        "Add the {needed}, or choose another channel.",
    ),
    "dnc-with-opt-in": (
        W,
        "Do not contact is set, but the customer also has {optins}; Do not contact wins.",
        "Clear the opt-ins, or Do not contact if the customer now agrees to hear from you.",
    ),
    # references
    "order-no-customer": (
        E,
        "The order names no customer; it is left out of tiers.",
        "Type the customer's ID or email.",
    ),
    "order-unknown-customer": (
        E,
        "No customer has the ID or email '{value}'; the order is left out of tiers.",
        "Correct the reference, or add the customer to the Customers tab.",
    ),
    "interaction-no-customer": (W, "The interaction names no customer.", "Type the customer's ID or email."),
    "interaction-unknown-customer": (
        W,
        "No customer has the ID or email '{value}'.",
        "Correct the reference, or add the customer to the Customers tab.",
    ),
    "referrer-unknown": (
        W,
        "Referred by '{value}' matches no customer (by ID, email or name).",
        "Type the referrer's Customer ID or email.",
    ),
    "referrer-ambiguous": (
        W,
        "Referred by '{value}' matches {count} customers with that name.",
        "Type the referrer's Customer ID or email instead of the name.",
    ),
    "referral-loop": (
        W,
        "Referred by goes round in a circle: {chain}.",
        "Correct who referred whom; referrals in a loop are not counted.",
    ),
    # structure
    "postcode-lost-zero": (
        W,
        "The postcode is stored as the number {value}, so its leading zero is lost.",
        "Format the Postcode column as text and type {suggestion}.",
    ),
    "postcode-as-number": (
        W,
        "The postcode is stored as a number ({value}); postcodes in {country} have letters.",
        "Format the Postcode column as text and type the full postcode.",
    ),
    "interactions-column-missing": (
        W,
        "The Interactions tab has no {column} column, so its rows cannot be used.",
        "Add a column called '{column}'.",
    ),
    # IDs
    "customer-id-duplicate": (
        E,
        "Customer ID {value} is also on row {other_row}.",
        "Give one of them a new ID (clear the cell and the next run fills it), or merge them.",
    ),
    "customer-id-column-missing": (
        W,
        "The Customers tab has no Customer ID column, so customers are known by row number, "
        "which changes when rows move.",
        "Insert a column called 'Customer ID' (for example as column A); the next run fills it "
        "with IDs like C-00001.",
    ),
    "customer-id-counter": (
        N,
        "The highest Customer ID given out so far is {value}; new customers get higher ones.",
        "Nothing to do. This line keeps the IDs of deleted customers from being given out again.",
    ),
    # settings
    "setting-country-unknown": (
        E,
        "'{value}' is not a two-letter country code; phone numbers without a country code cannot be read.",
        "Type a code such as GB, US or DE.",
    ),
    "setting-timezone-unknown": (
        E,
        "'{value}' is not a time zone name.",
        "Type a name such as Europe/London or America/New_York.",
    ),
    "setting-tier-order": (
        E,
        "The tier cut-offs must rise: Platinum < Gold < Silver <= 100 (now {value}).",
        "Correct the tier settings.",
    ),
    "setting-date-order-unknown": (
        W,
        "'{value}' is not a date order; the order of the default country is used.",
        "Type 'day first' or 'month first', or leave it blank.",
    ),
}

# MESSAGES with, for each code, whether its templates need filling in at all (many
# findings of a big sheet are of codes whose words never change).
TEMPLATES: dict[str, tuple[Severity, str, str, bool]] = {
    code: (severity, problem, fix, any(ch in problem + fix for ch in "{}"))
    for code, (severity, problem, fix) in MESSAGES.items()
}
