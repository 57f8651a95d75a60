"""The starter template specs (TOML). Not code: a package only so that a wheel can ship the
specs as package data (sheet_crm.starter finds them here when installed)."""
