from .procedures import Procedure


class ProcedureOutcome(Procedure):
    """The clinic's results (tpi/admin_outcomes.py): a proxy that carries the dashboard's permissions.

    `view_procedureoutcome` opens the dashboard (own procedures); `view_all_outcomes` shows every provider's.
    """

    class Meta:
        proxy = True
        verbose_name = "result"
        verbose_name_plural = "results"
        permissions = [("view_all_outcomes", "Can see every provider's results")]
