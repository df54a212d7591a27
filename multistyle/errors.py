"""The exceptions multistyle raises for problems a user can fix. The CLI prints their message on one
line and exits with status 2; library callers catch `MultistyleError` (or a narrower class)."""


class MultistyleError(Exception):
    """Base class: the input, config or environment cannot give a correct result."""


class InputError(MultistyleError, ValueError):
    """A missing, unreadable or unsuitable input (file, image, clip, sentence) or argument value."""


class ConfigError(InputError):
    """A config file or override with an unknown key or a value of the wrong type or range."""


class WeightsError(MultistyleError):
    """A weights file that is missing, corrupt, or made for another architecture or vocabulary."""


class WriteError(MultistyleError, OSError):
    """An output that cannot be written: a full disk, a name too long, no permission, a device or a read-only file.
    Nothing partial is left behind."""


class ResourceError(MultistyleError, MemoryError):
    """The job would not fit in the available memory; a smaller size usually helps."""


class OptimizationError(MultistyleError, ArithmeticError):
    """An optimisation produced no finite loss (diverged from its first evaluation)."""


class Interrupted(MultistyleError):
    """Ctrl-C or SIGTERM stopped a long job; the message says what was saved and where. The CLI exits 130."""

    exit_code = 130
