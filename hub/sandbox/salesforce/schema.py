"""The sObject types the emulator serves: fields, key prefixes and their describe metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "datetime": "xsd:dateTime",
    "date": "xsd:date", "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "int": "xsd:int", "base64": "xsd:base64Binary",
}
TEXT_TYPES = {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "combobox", "id",
              "reference"}
NUMBER_TYPES = {"double", "currency", "percent", "int"}
DEFAULT_LENGTH = {"string": 255, "textarea": 32000, "picklist": 255, "email": 80, "phone": 40, "url": 255,
                  "id": 18, "reference": 18}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    length: int | None = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: object = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    auto_number: bool = False
    calculated: bool = False
    name_field: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def max_length(self) -> int:
        if self.length is not None:
            return self.length
        return DEFAULT_LENGTH.get(self.type, 0)

    def describe(self) -> dict:
        text = self.type in TEXT_TYPES
        return {
            "aggregatable": self.type not in ("textarea", "base64"), "aiPredictionField": False,
            "autoNumber": self.auto_number, "byteLength": self.max_length * 3 if text else 0,
            "calculated": self.calculated, "calculatedFormula": None, "cascadeDelete": False,
            "caseSensitive": False, "compoundFieldName": None, "controllerName": None,
            "createable": self.createable, "custom": self.custom,
            "defaultValue": self.default if isinstance(self.default, (str, bool)) else None,
            "defaultValueFormula": None, "defaultedOnCreate": self.default is not None or self.name in SYSTEM_FIELDS,
            "dependentPicklist": False, "deprecatedAndHidden": False,
            "digits": 9 if self.type == "int" else 0, "displayLocationInDecimal": False, "encrypted": False,
            "externalId": self.external_id, "extraTypeInfo": None, "filterable": self.type != "textarea",
            "filteredLookupInfo": None, "formulaTreatNullNumberAsZero": False,
            "groupable": self.type not in ("textarea", "datetime", "double", "currency", "percent", "base64"),
            "highScaleNumber": False, "htmlFormatted": False, "idLookup": self.name == "Id" or self.external_id,
            "inlineHelpText": None, "label": self.label, "length": self.max_length if text else 0,
            "mask": None, "maskType": None, "name": self.name, "nameField": self.name_field,
            "namePointing": False, "nillable": self.nillable, "permissionable": self.nillable and self.custom,
            "picklistValues": [{"active": True, "defaultValue": value == self.default, "label": value,
                                "validFor": None, "value": value} for value in self.picklist],
            "polymorphicForeignKey": False, "precision": self.precision, "queryByDistance": False,
            "referenceTargetField": None, "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
            "restrictedPicklist": self.restricted, "scale": self.scale, "searchPrefilterable": False,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"), "sortable": self.type != "textarea",
            "type": self.type, "unique": self.unique, "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                 "SystemModstamp")


def _system() -> list[Field]:
    read_only = {"createable": False, "updateable": False}
    return [
        Field("Id", "id", "Record ID", nillable=False, **read_only),
        Field("IsDeleted", "boolean", "Deleted", nillable=False, default=False, **read_only),
        Field("CreatedDate", "datetime", "Created Date", nillable=False, **read_only),
        Field("CreatedById", "reference", "Created By ID", nillable=False, reference_to=("User",),
              relationship_name="CreatedBy", **read_only),
        Field("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **read_only),
        Field("LastModifiedById", "reference", "Last Modified By ID", nillable=False, reference_to=("User",),
              relationship_name="LastModifiedBy", **read_only),
        Field("SystemModstamp", "datetime", "System Modstamp", nillable=False, **read_only),
    ]


def _activity() -> list[Field]:
    read_only = {"createable": False, "updateable": False}
    return [Field("LastActivityDate", "date", "Last Activity", **read_only),
            Field("LastViewedDate", "datetime", "Last Viewed Date", **read_only),
            Field("LastReferencedDate", "datetime", "Last Referenced Date", **read_only)]


def _owner() -> Field:
    return Field("OwnerId", "reference", "Owner ID", nillable=False, reference_to=("User",),
                 relationship_name="Owner")


def _ref(name: str, label: str, target: str, relationship: str, **kw) -> Field:
    return Field(name, "reference", label, reference_to=(target,), relationship_name=relationship, **kw)


def _custom(name: str, type_: str, label: str, **kw) -> Field:
    return Field(name, type_, label, custom=True, **kw)


SEGMENTS = ("end_user", "merchant", "investor")
KYC_STATUSES = ("pending", "verified", "rejected", "expired")
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
              "account_access", "compliance_fraud")
CASE_STATUSES = ("New", "Working", "Escalated", "On Hold", "Closed")
CLOSED_STATUSES = frozenset({"Closed"})
CASE_PRIORITIES = ("High", "Medium", "Low")
CASE_ORIGINS = ("Phone", "Email", "Web", "Chat")


@dataclass
class SObjectType:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: list[Field]
    child_relationships: list[dict] = field(default_factory=list)
    by_name: dict[str, Field] = field(init=False)
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {f.name.lower(): f for f in self.fields}
        self.names = frozenset(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        lowered = name.lower()
        for candidate in self.fields:
            if candidate.relationship_name and candidate.relationship_name.lower() == lowered:
                return candidate
        return None

    def urls(self, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"compactLayouts": f"{base}/describe/compactLayouts", "rowTemplate": f"{base}/{{ID}}",
                "approvalLayouts": f"{base}/describe/approvalLayouts",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields", "listviews": f"{base}/listviews",
                "describe": f"{base}/describe", "quickActions": f"{base}/quickActions",
                "layouts": f"{base}/describe/layouts", "sobject": base}

    def summary(self, version: str) -> dict:
        """The entry of this type in the global describe (``GET sobjects/``)."""
        return {"activateable": False, "associateEntityType": None, "associateParentEntity": None,
                "createable": True, "custom": False, "customSetting": False, "deepCloneable": False,
                "deletable": True, "deprecatedAndHidden": False, "feedEnabled": True, "hasSubtypes": False,
                "isInterface": False, "isSubtype": False, "keyPrefix": self.key_prefix, "label": self.label,
                "labelPlural": self.label_plural, "layoutable": True, "mergeable": self.name != "CaseComment",
                "mruEnabled": True, "name": self.name, "queryable": True, "replicateable": True,
                "retrieveable": True, "searchable": True, "triggerable": True, "undeletable": True,
                "updateable": True, "urls": self.urls(version)}

    def describe(self, version: str) -> dict:
        """The full ``sobjects/{Type}/describe`` body."""
        body = self.summary(version)
        body.update({
            "actionOverrides": [], "childRelationships": self.child_relationships, "compactLayoutable": True,
            "defaultImplementation": None, "extendedBy": None, "extendsInterfaces": None,
            "fields": [f.describe() for f in self.fields], "implementedBy": None, "implementsInterfaces": None,
            "listviewable": None, "lookupLayoutable": None, "namedLayoutInfos": [], "networkScopeFieldName": None,
            "recordTypeInfos": [{"active": True, "available": True, "defaultRecordTypeMapping": True,
                                 "developerName": "Master", "master": True, "name": "Master",
                                 "recordTypeId": "012000000000000AAA",
                                 "urls": {"layout": f"/services/data/v{version}/sobjects/{self.name}"
                                                    "/describe/layouts/012000000000000AAA"}}],
            "searchLayoutable": True, "sobjectDescribeOption": "FULL", "supportedScopes": [
                {"label": "All " + self.label_plural.lower(), "name": "everything"},
                {"label": "My " + self.label_plural.lower(), "name": "mine"}],
        })
        body["urls"] = self.urls(version) | {"uiDetailTemplate": "https://sandbox.my.salesforce.com/{ID}",
                                              "uiEditTemplate": "https://sandbox.my.salesforce.com/{ID}/e",
                                              "uiNewRecord": f"https://sandbox.my.salesforce.com/{self.key_prefix}/e"}
        return body


def _child(child: str, field_name: str, relationship: str, cascade: bool = False) -> dict:
    return {"cascadeDelete": cascade, "childSObject": child, "deprecatedAndHidden": False, "field": field_name,
            "junctionIdListNames": [], "junctionReferenceTo": [], "relationshipName": relationship,
            "restrictedDelete": False}


ADDRESS = ("Street", "City", "State", "PostalCode", "Country")

ACCOUNT = SObjectType("Account", "Account", "Accounts", "001", _system() + [
    Field("MasterRecordId", "reference", "Master Record ID", createable=False, updateable=False,
          reference_to=("Account",), relationship_name="MasterRecord"),
    Field("Name", "string", "Account Name", nillable=False, name_field=True),
    Field("Type", "picklist", "Account Type", picklist=("Prospect", "Customer - Direct", "Customer - Channel",
                                                        "Partner", "Other")),
    _ref("ParentId", "Parent Account ID", "Account", "Parent"),
    *[Field(f"Billing{part}", "textarea" if part == "Street" else "string", f"Billing {part}",
            length=None if part == "Street" else 80) for part in ADDRESS],
    Field("Phone", "phone", "Account Phone"), Field("Fax", "phone", "Account Fax"),
    Field("AccountNumber", "string", "Account Number", length=40), Field("Website", "url", "Website"),
    Field("Industry", "picklist", "Industry", picklist=("Banking", "Finance", "Retail", "Technology", "Other")),
    Field("AnnualRevenue", "currency", "Annual Revenue", precision=18),
    Field("NumberOfEmployees", "int", "Employees", precision=8),
    Field("Description", "textarea", "Account Description"),
    _owner(),
    Field("AccountSource", "picklist", "Account Source", picklist=("Web", "Phone Inquiry", "Partner Referral",
                                                                   "Other")),
    *[Field(f"Shipping{part}", "textarea" if part == "Street" else "string", f"Shipping {part}",
            length=None if part == "Street" else 80) for part in ADDRESS],
    Field("Rating", "picklist", "Account Rating", picklist=("Hot", "Warm", "Cold")),
    Field("Site", "string", "Account Site", length=80), Field("Sic", "string", "SIC Code", length=20),
    Field("Ownership", "picklist", "Ownership", picklist=("Public", "Private", "Subsidiary", "Other")),
    Field("TickerSymbol", "string", "Ticker Symbol", length=20),
    Field("PhotoUrl", "url", "Photo URL", createable=False, updateable=False),
    *_activity(),
    _custom("Deskbridge_Id__c", "string", "Deskbridge Id", external_id=True, unique=True, length=80),
    _custom("Segment__c", "picklist", "Segment", picklist=SEGMENTS, restricted=True),
    _custom("Domain__c", "string", "Domain", length=255),
], [_child("Contact", "AccountId", "Contacts"), _child("Case", "AccountId", "Cases"),
    _child("Account", "ParentId", "ChildAccounts")])

CONTACT = SObjectType("Contact", "Contact", "Contacts", "003", _system() + [
    Field("MasterRecordId", "reference", "Master Record ID", createable=False, updateable=False,
          reference_to=("Contact",), relationship_name="MasterRecord"),
    _ref("AccountId", "Account ID", "Account", "Account"),
    Field("LastName", "string", "Last Name", nillable=False, length=80),
    Field("FirstName", "string", "First Name", length=40),
    Field("Salutation", "picklist", "Salutation", picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
    Field("Name", "string", "Full Name", createable=False, updateable=False, nillable=False, length=121,
          name_field=True, calculated=True),
    *[Field(f"Mailing{part}", "textarea" if part == "Street" else "string", f"Mailing {part}",
            length=None if part == "Street" else 80) for part in ADDRESS],
    Field("Phone", "phone", "Business Phone"), Field("MobilePhone", "phone", "Mobile Phone"),
    Field("Email", "email", "Email"), Field("Title", "string", "Title", length=128),
    Field("Department", "string", "Department", length=80),
    Field("LeadSource", "picklist", "Lead Source", picklist=("Web", "Phone Inquiry", "Partner Referral", "Other")),
    Field("Birthdate", "date", "Birthdate"), Field("Description", "textarea", "Contact Description"),
    _owner(),
    Field("HomePhone", "phone", "Home Phone"), Field("OtherPhone", "phone", "Other Phone"),
    Field("Fax", "phone", "Business Fax"),
    _ref("ReportsToId", "Reports To ID", "Contact", "ReportsTo"),
    Field("IsEmailBounced", "boolean", "Is Email Bounced", createable=False, updateable=False, nillable=False,
          default=False),
    Field("EmailBouncedReason", "string", "Email Bounced Reason", length=255),
    Field("EmailBouncedDate", "datetime", "Email Bounced Date"),
    Field("PhotoUrl", "url", "Photo URL", createable=False, updateable=False),
    *_activity(),
    Field("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False, default=False),
    Field("DoNotCall", "boolean", "Do Not Call", nillable=False, default=False),
    _custom("Bank_Customer_Id__c", "string", "Bank Customer Id", external_id=True, unique=True, length=40),
    _custom("Deskbridge_Id__c", "string", "Deskbridge Id", external_id=True, unique=True, length=80),
    _custom("Segment__c", "picklist", "Segment", picklist=SEGMENTS, restricted=True),
    _custom("KYC_Status__c", "picklist", "KYC Status", picklist=KYC_STATUSES, restricted=True),
    _custom("Identity_Verified__c", "boolean", "Identity Verified", nillable=False, default=False),
], [_child("Case", "ContactId", "Cases")])

CASE = SObjectType("Case", "Case", "Cases", "500", _system() + [
    Field("MasterRecordId", "reference", "Master Record ID", createable=False, updateable=False,
          reference_to=("Case",), relationship_name="MasterRecord"),
    Field("CaseNumber", "string", "Case Number", createable=False, updateable=False, nillable=False,
          length=30, auto_number=True, name_field=True),
    _ref("ContactId", "Contact ID", "Contact", "Contact"),
    _ref("AccountId", "Account ID", "Account", "Account"),
    _ref("ParentId", "Parent Case ID", "Case", "Parent"),
    Field("SuppliedName", "string", "Name", length=80), Field("SuppliedEmail", "email", "Email Address"),
    Field("SuppliedPhone", "string", "Phone", length=40), Field("SuppliedCompany", "string", "Company", length=80),
    Field("Type", "picklist", "Case Type", picklist=("Question", "Problem", "Feature Request")),
    Field("Status", "picklist", "Status", picklist=CASE_STATUSES, default="New"),
    Field("Reason", "picklist", "Case Reason", picklist=("Installation", "Equipment Complexity", "Performance",
                                                         "Breakdown", "Equipment Design", "Feedback", "Other")),
    Field("Origin", "picklist", "Case Origin", picklist=CASE_ORIGINS),
    Field("Subject", "string", "Subject"),
    Field("Priority", "picklist", "Priority", picklist=CASE_PRIORITIES, default="Medium"),
    Field("Description", "textarea", "Description"),
    Field("IsClosed", "boolean", "Closed", createable=False, updateable=False, nillable=False, default=False),
    Field("ClosedDate", "datetime", "Closed Date", createable=False, updateable=False),
    Field("IsEscalated", "boolean", "Escalated", nillable=False, default=False),
    _owner(),
    Field("ContactPhone", "phone", "Contact Phone", createable=False, updateable=False, calculated=True),
    Field("ContactMobile", "phone", "Contact Mobile", createable=False, updateable=False, calculated=True),
    Field("ContactEmail", "email", "Contact Email", createable=False, updateable=False, calculated=True),
    Field("Comments", "textarea", "Internal Comments", length=4000),
    Field("Language", "picklist", "Language", picklist=("en_US", "en_GB", "de", "fr", "es", "it", "nl_NL")),
    *_activity(),
    _custom("Deskbridge_Id__c", "string", "Deskbridge Id", external_id=True, unique=True, length=80),
    # Not unique: an external id may match several records, which upsert answers with 300.
    _custom("Zendesk_Ticket_Id__c", "string", "Zendesk Ticket Id", external_id=True, length=40),
    _custom("Category__c", "picklist", "Category", picklist=CATEGORIES, restricted=True),
    _custom("Risk_Score__c", "double", "Risk Score", precision=5, scale=4),
    _custom("SLA_First_Response_Due__c", "datetime", "SLA First Response Due"),
    _custom("Identity_Verified__c", "boolean", "Identity Verified", nillable=False, default=False),
], [_child("CaseComment", "ParentId", "CaseComments", cascade=True), _child("Case", "ParentId", "Cases")])

CASE_COMMENT = SObjectType("CaseComment", "Case Comment", "Case Comments", "00a", _system() + [
    _ref("ParentId", "Parent ID", "Case", "Parent", nillable=False, updateable=False),
    Field("IsPublished", "boolean", "Published", nillable=False, default=False),
    Field("CommentBody", "textarea", "Body", length=4000),
])

CONTENT_VERSION = SObjectType("ContentVersion", "Content Version", "Content Versions", "068", _system() + [
    _ref("ContentDocumentId", "ContentDocument ID", "ContentDocument", "ContentDocument", createable=False,
         updateable=False),
    Field("IsLatest", "boolean", "Is Latest", createable=False, updateable=False, nillable=False, default=True),
    Field("VersionNumber", "string", "Version Number", createable=False, updateable=False, length=20),
    Field("Title", "string", "Title", nillable=False),
    Field("PathOnClient", "string", "Path On Client", updateable=False, nillable=False, length=500),
    Field("VersionData", "base64", "Version Data", updateable=False, nillable=False),
    Field("ContentSize", "int", "Size", createable=False, updateable=False),
    Field("FileType", "string", "File Type", createable=False, updateable=False, length=20),
    Field("FileExtension", "string", "File Extension", createable=False, updateable=False, length=40),
    Field("Description", "textarea", "Description", length=1000),
    _ref("FirstPublishLocationId", "First Publish Location ID", "Case", "FirstPublishLocation", updateable=False),
    _owner(),
])

CONTENT_DOCUMENT_LINK = SObjectType("ContentDocumentLink", "Content Document Link", "Content Document Links",
                                    "06A", [f for f in _system() if f.name not in ("CreatedDate", "CreatedById",
                                                                                    "LastModifiedDate",
                                                                                    "LastModifiedById")] + [
    Field("LinkedEntityId", "reference", "Linked Entity ID", updateable=False, nillable=False,
          reference_to=("Case", "Contact", "Account"), relationship_name="LinkedEntity"),
    _ref("ContentDocumentId", "ContentDocument ID", "ContentDocument", "ContentDocument", updateable=False,
         nillable=False),
    Field("ShareType", "picklist", "Share Type", picklist=("V", "C", "I"), default="V"),
    Field("Visibility", "picklist", "Visibility", picklist=("AllUsers", "InternalUsers", "SharedUsers"),
          default="AllUsers"),
])

SOBJECTS: dict[str, SObjectType] = {t.name.lower(): t for t in (ACCOUNT, CONTACT, CASE, CASE_COMMENT,
                                                                 CONTENT_VERSION, CONTENT_DOCUMENT_LINK)}
PREFIXES: dict[str, str] = {t.key_prefix: t.name for t in SOBJECTS.values()}
CONTENT_DOCUMENT_PREFIX = "069"
USER_PREFIX = "005"


def sobject(name: str) -> SObjectType | None:
    return SOBJECTS.get(name.lower())
