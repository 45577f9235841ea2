"""Deterministic demo data shared by every emulator, so records match across systems.

``build_dataset(seed)`` always yields the same ids, names, amounts and texts for one seed. Times are placed
relative to ``anchor`` (default: midnight UTC today) so that demo data looks recent whenever it is loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
              "account_access", "compliance_fraud")
SEGMENTS = ("end_user", "merchant", "investor")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass
class Account:
    id: str
    iban: str
    currency: str
    balance: Decimal
    status: str  # active | frozen | closed


@dataclass
class Card:
    id: str
    last4: str
    brand: str
    status: str  # active | frozen
    account_id: str = ""
    expiry: str = ""


@dataclass
class Txn:
    id: str
    account_id: str
    amount: Decimal  # negative = money out
    currency: str
    description: str
    status: str  # posted | pending | failed | reversed
    created_at: datetime
    failure_code: str | None = None
    card_id: str | None = None


@dataclass
class Dispute:
    id: str
    transaction_id: str
    amount: Decimal
    currency: str
    status: str  # needs_response | under_review | won | lost
    evidence_due_by: datetime
    reason: str = "fraudulent"
    created_at: datetime | None = None


@dataclass
class Consent:
    purpose: str
    granted: bool
    text_version: str
    channel: str
    at: datetime


@dataclass
class Customer:
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    segment: str
    kyc_status: str
    organisation: str | None
    accounts: list[Account] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    transactions: list[Txn] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    lifetime_value: Decimal = Decimal("0")
    organisation_id: str | None = None
    city: str = ""
    country: str = "GB"
    created_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Organisation:
    id: str
    name: str
    domain: str
    segment: str


@dataclass
class SeedTicket:
    ref: str
    customer_id: str
    subject: str
    description: str
    category: str
    priority: str  # low | normal | high | urgent
    status: str  # new | open | pending | solved
    created_at: datetime


@dataclass
class Dataset:
    customers: list[Customer]
    organisations: list[Organisation]
    tickets: list[SeedTicket]

    def counts(self) -> dict:
        people = self.customers
        return {"customers": len(people), "organisations": len(self.organisations), "tickets": len(self.tickets),
                "accounts": sum(len(c.accounts) for c in people), "cards": sum(len(c.cards) for c in people),
                "transactions": sum(len(c.transactions) for c in people),
                "disputes": sum(len(c.disputes) for c in people)}

    def customer(self, customer_id: str) -> Customer:
        for person in self.customers:
            if person.id == customer_id:
                return person
        raise KeyError(customer_id)

    def organisation(self, organisation_id: str) -> Organisation:
        for org in self.organisations:
            if org.id == organisation_id:
                return org
        raise KeyError(organisation_id)


def _money(pence: int) -> Decimal:
    return Decimal(pence).scaleb(-2)


def iban_gb(bank: str, sort_code: str, account: str) -> str:
    """A GB IBAN with valid ISO 13616 check digits."""
    bban = f"{bank}{sort_code}{account}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    check = 98 - int(digits) % 97
    return f"GB{check:02d}{bban}"


def build_dataset(seed: int = 7, anchor: datetime | None = None, customers: int = 50,
                  tickets: int = 100) -> Dataset:
    """Deterministic demo data: customers with accounts, cards, transactions, disputes, consents; tickets."""
    rng = random.Random(seed)
    if anchor is None:
        anchor = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    anchor = anchor.astimezone(timezone.utc)
    organisations = _organisations(rng)
    people = [_customer(rng, index, organisations, anchor) for index in range(1, customers + 1)]
    seed_tickets = _tickets(rng, people, anchor, tickets)
    return Dataset(customers=people, organisations=organisations, tickets=seed_tickets)


def _organisations(rng: random.Random) -> list[Organisation]:
    orgs = []
    for index, (name, domain, segment) in enumerate(ORGANISATIONS, start=1):
        orgs.append(Organisation(id=f"ORG-{index:04d}", name=name, domain=domain, segment=segment))
    return orgs


def _segment_for(index: int) -> str:
    # Mostly consumers, then a steady share of merchants and investors (every 5th and every 8th customer).
    if index % 5 == 0:
        return "merchant"
    if index % 8 == 3:
        return "investor"
    return "end_user"


def _customer(rng: random.Random, index: int, orgs: list[Organisation], anchor: datetime) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    segment = _segment_for(index)
    org = None
    if segment != "end_user":
        candidates = [o for o in orgs if o.segment == segment]
        org = candidates[index % len(candidates)]
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    email = f"{local}{index}@{org.domain if org else rng.choice(EMAIL_DOMAINS)}"
    phone = f"+447700900{index:03d}"
    kyc = rng.choices(("verified", "pending", "rejected", "expired"), weights=(80, 10, 5, 5))[0]
    cust_id = f"CUST-{index:04d}"
    created = anchor - timedelta(days=rng.randint(60, 1500))
    customer = Customer(id=cust_id, first_name=first, last_name=last, email=email, phone=phone, segment=segment,
                        kyc_status=kyc, organisation=org.name if org else None,
                        organisation_id=org.id if org else None, city=rng.choice(CITIES), created_at=created)
    _accounts_and_cards(rng, customer, index)
    _transactions(rng, customer, anchor)
    _disputes(rng, customer, anchor)
    customer.consents = [
        Consent(purpose=purpose, granted=rng.random() < 0.6, text_version=rng.choice(("2024-03", "2025-01")),
                channel=rng.choice(("web", "app", "branch")), at=created + timedelta(days=rng.randint(0, 30)))
        for purpose in CONSENT_PURPOSES]
    low, high = {"end_user": (40, 2500), "merchant": (4000, 90000), "investor": (15000, 250000)}[segment]
    customer.lifetime_value = _money(rng.randint(low * 100, high * 100))
    return customer


def _accounts_and_cards(rng: random.Random, customer: Customer, index: int) -> None:
    count = 1 if customer.segment == "end_user" and rng.random() < 0.7 else 2
    for n in range(1, count + 1):
        currency = "GBP" if n == 1 else rng.choice(("EUR", "USD"))
        status = "frozen" if rng.random() < 0.06 else "active"
        account_no = f"{index:04d}{n:02d}{rng.randint(10, 99)}"
        customer.accounts.append(Account(
            id=f"ACC-{index:04d}-{n:02d}", iban=iban_gb("SAND", "404040", account_no), currency=currency,
            balance=_money(rng.randint(-5000, 900000)), status=status))
    primary = customer.accounts[0]
    for n in range(1, (3 if customer.segment != "end_user" else 2)):
        customer.cards.append(Card(
            id=f"CARD-{index:04d}-{n:02d}", last4=f"{rng.randint(0, 9999):04d}",
            brand=rng.choice(("visa", "mastercard")), status="frozen" if rng.random() < 0.08 else "active",
            account_id=primary.id, expiry=f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"))


def _transactions(rng: random.Random, customer: Customer, anchor: datetime) -> None:
    seq = 0
    for account in customer.accounts:
        for _ in range(rng.randint(4, 9)):
            seq += 1
            merchant = rng.choice(MERCHANTS)
            incoming = rng.random() < 0.2
            amount = _money(rng.randint(150, 250000 if customer.segment != "end_user" else 40000))
            status = rng.choices(("posted", "pending", "failed", "reversed"), weights=(86, 7, 4, 3))[0]
            card = customer.cards[0] if customer.cards and not incoming and account is customer.accounts[0] else None
            customer.transactions.append(Txn(
                id=f"TXN-{customer.id[5:]}-{seq:03d}", account_id=account.id,
                amount=amount if incoming else -amount, currency=account.currency,
                description=f"Credit from {rng.choice(PAYERS)}" if incoming else f"Card payment to {merchant}"
                if card else f"Payment to {merchant}",
                status=status, created_at=anchor - timedelta(minutes=rng.randint(30, 60 * 24 * 90)),
                failure_code=rng.choice(FAILURE_CODES) if status == "failed" else None,
                card_id=card.id if card else None))
    customer.transactions.sort(key=lambda t: (t.created_at, t.id))


def _disputes(rng: random.Random, customer: Customer, anchor: datetime) -> None:
    posted = [t for t in customer.transactions if t.status == "posted" and t.amount < 0]
    if not posted or rng.random() > 0.14:
        return
    txn = rng.choice(posted)
    opened = max(txn.created_at + timedelta(days=2), anchor - timedelta(days=20))
    status = rng.choice(("needs_response", "under_review", "under_review", "won", "lost"))
    customer.disputes.append(Dispute(
        id=f"DSP-{customer.id[5:]}-01", transaction_id=txn.id, amount=-txn.amount, currency=txn.currency,
        status=status, evidence_due_by=opened + timedelta(days=21),
        reason=rng.choice(("fraudulent", "product_not_received", "duplicate", "credit_not_processed")),
        created_at=opened))


def _tickets(rng: random.Random, people: list[Customer], anchor: datetime, count: int) -> list[SeedTicket]:
    out = []
    for index in range(1, count + 1):
        category = CATEGORIES[(index - 1) % len(CATEGORIES)] if index <= 2 * len(CATEGORIES) else \
            rng.choice(CATEGORIES)
        person = rng.choice(people)
        subject, description = rng.choice(TICKET_TEMPLATES[category])
        values = _template_values(rng, person)
        priority = rng.choices(("low", "normal", "high", "urgent"),
                               weights=(1, 3, 4, 3) if category == "compliance_fraud" else (3, 6, 2, 1))[0]
        status = rng.choices(("new", "open", "pending", "solved"), weights=(3, 4, 2, 3))[0]
        out.append(SeedTicket(
            ref=f"SEED-T-{index:04d}", customer_id=person.id, subject=subject.format(**values),
            description=description.format(**values), category=category, priority=priority, status=status,
            created_at=anchor - timedelta(minutes=rng.randint(10, 60 * 24 * 21))))
    out.sort(key=lambda t: t.ref)
    return out


def _template_values(rng: random.Random, person: Customer) -> dict:
    txn = rng.choice(person.transactions)
    card = person.cards[0] if person.cards else None
    return {"first_name": person.first_name, "last_name": person.last_name,
            "amount": f"{abs(txn.amount):.2f}", "currency": txn.currency, "merchant": rng.choice(MERCHANTS),
            "last4": card.last4 if card else "0000", "date": txn.created_at.strftime("%d %B"),
            "org": person.organisation or "my business", "days": rng.randint(2, 9)}


# -- text the generator draws from --------------------------------------------------------------------------
FIRST_NAMES = (
    "Amelia", "Oliver", "Priya", "Mohammed", "Sofia", "Liam", "Chloe", "Kwame", "Hannah", "Mateo", "Aisha",
    "Jakub", "Emily", "Daniel", "Mei", "Tomasz", "Grace", "Arjun", "Isla", "Noah", "Fatima", "Lucas", "Zara",
    "Ethan", "Ines", "Samuel", "Olga", "Rhys", "Yuki", "Freya", "Diego", "Niamh", "Ravi", "Leah", "Oscar",
    "Amara", "Henrik", "Sara", "Callum", "Elena",
)
LAST_NAMES = (
    "Patel", "Smith", "Okafor", "Nowak", "Garcia", "Jones", "Chen", "Murphy", "Khan", "Williams", "Rossi",
    "Brown", "Ahmed", "Taylor", "Kowalski", "Evans", "Silva", "Thompson", "Nguyen", "Walsh", "Mensah",
    "Hughes", "Schmidt", "Ali", "Clarke", "Fernandes", "Davies", "Ivanova", "Lewis", "Tanaka",
)
CITIES = ("London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff", "Birmingham", "Edinburgh", "Belfast")
ORGANISATIONS = (
    ("Brightside Coffee Ltd", "brightside-coffee.example", "merchant"),
    ("Northwind Cycles", "northwind-cycles.example", "merchant"),
    ("Harbour & Vine Wines", "harbourvine.example", "merchant"),
    ("Pixel Forge Studio", "pixelforge.example", "merchant"),
    ("Greenleaf Grocers", "greenleaf.example", "merchant"),
    ("Atlas Courier Co", "atlas-courier.example", "merchant"),
    ("Kestrel Print Works", "kestrelprint.example", "merchant"),
    ("Meridian Capital Partners", "meridian-capital.example", "investor"),
    ("Oakridge Family Office", "oakridge-fo.example", "investor"),
    ("Bluewater Ventures", "bluewater-ventures.example", "investor"),
)
MERCHANTS = ("Tesco", "Amazon UK", "Uber", "Pret A Manger", "Netflix", "Ryanair", "Boots", "Deliveroo",
             "Trainline", "Apple.com", "Shell", "IKEA", "Spotify", "Booking.com", "Etsy")
PAYERS = ("Acme Ltd payroll", "HMRC tax refund", "Stripe payout", "Savings pot", "J. Smith", "Mum",
          "Client invoice payment")
FAILURE_CODES = ("insufficient_funds", "card_declined", "do_not_honor", "expired_card", "limit_exceeded",
                 "beneficiary_account_closed")
CONSENT_PURPOSES = ("marketing_email", "marketing_sms", "analytics", "partner_data_sharing")

# Several (subject, description) templates per SPEC §4 category; {fields} come from _template_values.
TICKET_TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "payments": [
        ("Transfer of {currency} {amount} not received",
         "I sent {currency} {amount} to my landlord on {date} and it still has not arrived. Can you trace it?"),
        ("Payment to {merchant} failed twice",
         "My payment to {merchant} was declined twice today although I have enough money in the account."),
        ("Standing order did not go out",
         "My monthly standing order did not leave my account this month. Why, and will it be retried?"),
        ("Pending payment stuck for {days} days",
         "A payment of {currency} {amount} has shown as pending for {days} days now. When will it complete?"),
    ],
    "cards": [
        ("Card ending {last4} declined abroad",
         "My card ending {last4} keeps getting declined in shops while I am travelling. Please help."),
        ("New card has not arrived",
         "I ordered a replacement card {days} days ago and it has still not arrived. Can you check the status?"),
        ("Cannot add card to Apple Pay",
         "When I try to add my card ending {last4} to Apple Pay it says the card is not supported."),
        ("Contactless stopped working",
         "Contactless payments with my card stopped working yesterday, chip and PIN still works."),
    ],
    "disputes": [
        ("I don't recognise a charge from {merchant}",
         "There is a charge of {currency} {amount} from {merchant} on {date} that I never made. I want to dispute it."),
        ("Refund from {merchant} never arrived",
         "{merchant} promised a refund of {currency} {amount} on {date} but it never reached my account."),
        ("Charged twice for the same order",
         "I was charged {currency} {amount} twice by {merchant} for one order. Please return the duplicate."),
        ("Update on my chargeback?",
         "I opened a dispute about {currency} {amount} a while ago. What is the status and do you need evidence?"),
    ],
    "fees": [
        ("Why was I charged a foreign transaction fee?",
         "I was charged a fee on my {currency} {amount} payment to {merchant}. I thought there were no FX fees."),
        ("Unexpected monthly account fee",
         "This month there is an account fee I have never seen before. What is it for?"),
        ("ATM withdrawal fee too high",
         "I was charged a fee for an ATM withdrawal that should have been free on my plan."),
        ("Overdraft interest question",
         "I was charged overdraft interest although I was only overdrawn for one day. Can this be waived?"),
    ],
    "kyc_verification": [
        ("Identity verification keeps failing",
         "I have uploaded my passport three times and the verification still fails. What am I doing wrong?"),
        ("Proof of address rejected",
         "My utility bill was rejected as proof of address. It is recent and shows my full name."),
        ("Account limited until I verify",
         "My account says it is limited until I complete verification, but I already sent my documents."),
        ("How long does verification take?",
         "I submitted my ID {days} days ago and my account is still pending review."),
    ],
    "account_management": [
        ("Change my registered address",
         "I have moved house and need to update my address on the account. How do I do that?"),
        ("Close my account",
         "I would like to close my account and move my balance of {currency} {amount} to another bank."),
        ("Need a bank statement for {org}",
         "Please send me an official statement for the last three months, I need it for a mortgage application."),
        ("Add a second user to the business account",
         "I want to give my accountant access to the {org} account. What are the steps?"),
    ],
    "account_access": [
        ("Locked out of the app",
         "I entered the wrong passcode too many times and now the app has locked me out."),
        ("Not receiving the login code by SMS",
         "I am not receiving the one-time login code on my phone, so I cannot sign in."),
        ("New phone, cannot log in",
         "I got a new phone and I cannot log into my account on it. How do I move my app?"),
        ("Password reset link expired",
         "The password reset email link says it has expired every time I click it."),
    ],
    "compliance_fraud": [
        ("Someone has access to my account",
         "I received a login alert from a device I don't own and {currency} {amount} went to {merchant}. "
         "Please freeze everything now."),
        ("I was scammed by a fake bank call",
         "Someone called pretending to be from the bank and I moved {currency} {amount} to a 'safe account'."),
        ("Phishing text pretending to be you",
         "I got a text asking me to confirm my card details on a strange website. I clicked it, am I at risk?"),
        ("Source of funds request for large deposit",
         "You asked where a deposit of {currency} {amount} to {org} came from. What documents do you need?"),
    ],
}
