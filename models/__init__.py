"""Storage: Tortoise models, one module per aggregate, and the database lifecycle."""

from models.access_token import AccessToken, Scope
from models.alert import AlertEvent, AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryChannel, DeliveryStatus
from models.api_key import ApiKey, KeyStatus
from models.audit import AuditEntry
from models.limit_request import LimitRequest, LimitRequestStatus
from models.member import Member, Role
from models.organization import BudgetEnforcement, Organization, Tier
from models.organization_pricing import OrganizationPricing
from models.price import ModelPrice
from models.report import Report, ReportKind
from models.report_schedule import ReportSchedule
from models.request_log import RequestLog
from models.rollup import UsageRollupDay
from models.spend import SpendCounter
from models.wallet import EntryKind, WalletEntry

MODEL_MODULES = [
    "models.organization",
    "models.member",
    "models.api_key",
    "models.request_log",
    "models.wallet",
    "models.access_token",
    "models.price",
    "models.alert",
    "models.alert_delivery",
    "models.rollup",
    "models.latency_rollup",
    "models.spend",
    "models.report",
    "models.audit",
    "models.report_schedule",
    "models.organization_pricing",
    "models.limit_request",
    "models.service_lease",
]

__all__ = [
    "MODEL_MODULES",
    "AccessToken",
    "AlertDelivery",
    "AlertEvent",
    "AlertKind",
    "AlertRule",
    "ApiKey",
    "AuditEntry",
    "BudgetEnforcement",
    "DeliveryChannel",
    "DeliveryStatus",
    "EntryKind",
    "KeyStatus",
    "LimitRequest",
    "LimitRequestStatus",
    "Member",
    "ModelPrice",
    "Organization",
    "OrganizationPricing",
    "Report",
    "ReportKind",
    "ReportSchedule",
    "RequestLog",
    "Role",
    "Scope",
    "SpendCounter",
    "Tier",
    "UsageRollupDay",
    "WalletEntry",
]
