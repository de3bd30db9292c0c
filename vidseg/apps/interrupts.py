"""How a command is stopped from outside: SIGTERM as an interrupt, told apart from Ctrl-C."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so every cleanup path that
    handles Ctrl-C (temporary files removed, recordings committed, Ray stopped) runs for it too."""
