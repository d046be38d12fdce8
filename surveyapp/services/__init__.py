"""Services validate, mutate and flush. They never see a request; callers commit."""


class ServiceError(ValueError):
    """A problem with user input, worded for the user (already translated where possible)."""
