"""sheet-crm's version, the one place it is written.

A module of its own, below everything else, so that any module can import it without
importing the package's front door (``sheet_crm/__init__.py`` imports the api, which
would make ``from . import __version__`` in the api a circle). pyproject.toml reads the
version from here when the package is built.
"""

__version__ = "0.1.0"
