"""multistyle: neural style transfer for images, text and audio."""

__version__ = "0.1.0"


class UserError(Exception):
    """A problem with the user's input: the CLI prints its message on one line and exits non-zero."""
