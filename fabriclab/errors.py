"""User-facing errors.

Anything a user can get wrong (a bad program, flag, topology, table entry) raises
FabricError with a message meant for them; the CLI prints it and exits non-zero instead of
showing a traceback.
"""


class FabricError(Exception):
    """An error caused by user input or the machine's state, with a message for the user."""

    exit_code = 2
    #: True when the message already reads as a complete diagnostic (`file:line:col: error: ...`)
    #: and the CLI must print it as it is, without its own `fabriclab CMD: error:` prefix.
    self_describing = False
