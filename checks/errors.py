"""The one exception a statistician sees when a whole file cannot be taken."""


class FileRejected(Exception):
    """A file (or sheet) that cannot be loaded at all. The message is shown as is: make it specific."""
