"""armsbot: what is known about arms and surveillance sales to abusive governments, with sources."""

__version__ = "0.1.0"
