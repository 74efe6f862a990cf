"""The controlled-substance log: ketamine and esketamine stock by lot and storage location.

Every change of stock is a `Movement`: received, administered (linked to the dose record),
wasted (with a witness), returned, adjusted (with a reason) or moved between locations (a
transfer: two rows written together). Each row stores the running balance of its lot at its
location after it (`balance_after_mg`), computed under a lock on the lot so that two entries
never start from the same balance.

Movements are append-only: a mistake is corrected by a new `adjusted` row with its reason. The
application refuses to change or delete a movement, and database triggers (migration 0002)
refuse it too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from kapcare.core.models import TrackedModel
from kapcare.stock import rules

USER = settings.AUTH_USER_MODEL


class Drug(models.TextChoices):
    KETAMINE = rules.KETAMINE, "Ketamine"
    ESKETAMINE = rules.ESKETAMINE, "Esketamine"


class Unit(models.TextChoices):
    MG = "mg", "mg"


class Kind(models.TextChoices):
    RECEIVED = rules.RECEIVED, "Received"
    ADMINISTERED = rules.ADMINISTERED, "Administered"
    WASTED = rules.WASTED, "Wasted"
    RETURNED = rules.RETURNED, "Returned"
    ADJUSTED = rules.ADJUSTED, "Adjusted"
    TRANSFERRED_OUT = rules.TRANSFERRED_OUT, "Transferred out"
    TRANSFERRED_IN = rules.TRANSFERRED_IN, "Transferred in"


class MovementChanged(PermissionError):
    """Raised when code tries to change or delete a stock movement."""


class Location(TrackedModel):
    """Where stock is kept (a safe, a locked cabinet in a treatment room)."""

    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Lot(TrackedModel):
    """One manufacturer's lot of one product. Quantities are kept in mg of the drug."""

    drug = models.CharField(max_length=12, choices=Drug.choices)
    product = models.CharField(max_length=120, help_text="e.g. Ketamine HCl injection")
    form = models.CharField(
        "form and strength",
        max_length=120,
        help_text='e.g. "100 mg/mL, 10 mL vial" or "28 mg nasal spray device"',
    )
    lot_number = models.CharField(max_length=60)
    expires_on = models.DateField()
    unit = models.CharField(max_length=4, choices=Unit.choices, default=Unit.MG)

    class Meta:
        ordering = ["drug", "expires_on", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(Upper("lot_number"), "drug", name="stock_lot_number_per_drug")
        ]

    def __str__(self) -> str:
        return f"{self.get_drug_display()} lot {self.lot_number}"


class MovementQuerySet(models.QuerySet["Movement"]):
    # Bulk writes would bypass the per-row check in save(); movements are only ever added.
    def update(self, **kwargs: Any) -> int:
        raise MovementChanged("Stock movements are append-only; record an adjustment instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise MovementChanged("Stock movements are never deleted; record an adjustment instead.")


class Movement(TrackedModel):
    """One entry of the log. `quantity_mg` is signed: positive into stock, negative out of it."""

    lot = models.ForeignKey(  # stock_lot_location_latest leads with it: no index of its own
        Lot, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity_mg = models.DecimalField(max_digits=10, decimal_places=2)
    # The balance of this lot at this location once this row is counted.
    balance_after_mg = models.DecimalField(max_digits=10, decimal_places=2)
    moved_at = models.DateTimeField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    dose = models.ForeignKey(
        "dosing.Dose",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_movements",
    )
    # The two rows of one transfer share this id.
    transfer = models.UUIDField(null=True, blank=True, db_index=True)

    objects = MovementQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dose"],
                condition=Q(dose__isnull=False),
                name="stock_one_movement_per_dose",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=sorted(rules.INTO_STOCK), quantity_mg__gt=0)
                    | Q(kind__in=sorted(rules.OUT_OF_STOCK), quantity_mg__lt=0)
                    | (Q(kind__in=sorted(rules.EITHER_WAY)) & ~Q(quantity_mg=0))
                ),
                name="stock_quantity_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind=Kind.ADMINISTERED) | Q(dose__isnull=True),
                name="stock_dose_only_when_administered",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.WASTED) | Q(witness__isnull=False),
                name="stock_waste_has_witness",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("recorded_by")),
                name="stock_witness_not_recorder",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=sorted(rules.TRANSFERS), transfer__isnull=False)
                | (~Q(kind__in=sorted(rules.TRANSFERS)) & Q(transfer__isnull=True)),
                name="stock_transfer_rows_paired",
            ),
        ]
        indexes = [
            models.Index(fields=["lot", "location", "-id"], name="stock_lot_location_latest"),
            models.Index(fields=["kind", "moved_at"], name="stock_kind_moved_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity_mg} mg of {self.lot}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise MovementChanged("Stock movements are append-only; record an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise MovementChanged("Stock movements are never deleted; record an adjustment instead.")
