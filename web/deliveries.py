"""Resending a batch's results to a destination, shared by the API and the batch page.

Who may: staff of the batch's hospital and admins (officials read only). The row
is reset and committed before the step is published, as every enqueue is; the
step's claim makes a double click send once.
"""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from screening.accounts import audit
from screening.db.models import DicomDelivery, Role
from screening.faults import BrokerUnavailable
from screening.pipeline.deliver import resend
from screening.pipeline.names import DELIVER
from screening.pipeline.submit import publish
from web.authz import visible_batch
from web.errors import Problem, forbidden, not_found
from web.state import db, state
from web.uploads import BROKER_RETRY_AFTER_S


def resend_visible_delivery(batch_id: str, delivery_id: int) -> DicomDelivery:
    batch = visible_batch(batch_id)
    if g.user.role is Role.OFFICIAL:
        raise forbidden("health officials have read-only access; staff of the hospital can resend")
    delivery = db().scalar(select(DicomDelivery).where(DicomDelivery.id == delivery_id,
                                                       DicomDelivery.batch_id == batch.id))
    if delivery is None:
        raise not_found(f"batch {batch_id} has no delivery {delivery_id}")
    resend(db(), delivery)
    audit(db(), "delivery.resend", user_id=g.user.id, target_type="delivery", target_id=str(delivery.id),
          ip=request.remote_addr, batch=batch.id, destination=delivery.destination.name)
    db().commit()
    try:
        publish(state().enqueue, DELIVER, (delivery.id,))
    except BrokerUnavailable:
        raise Problem(503, "Service unavailable", "the resend is recorded and will go out once the task queue is "
                      "back", retry_after=BROKER_RETRY_AFTER_S) from None
    return delivery
