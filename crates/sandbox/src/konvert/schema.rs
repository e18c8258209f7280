//! Konvert's GraphQL schema: a small portal with contacts, companies, deals and notes.
//!
//! Lists are Relay-style connections (`first` ≤ 50, default 10; `after` = an `endCursor`).
//! `Contact.enrichment` fails for every contact whose number is a multiple of 5
//! (`contact-5`, `contact-10`, …) with `extensions.code = "ENRICHMENT_UNAVAILABLE"`, so a
//! query gets partial data plus `errors`. Bad input gives `extensions.code = "BAD_USER_INPUT"`;
//! an unknown id in a mutation gives `"NOT_FOUND"`.

use std::sync::{Arc, Mutex};

use async_graphql::{
    ComplexObject, Context, EmptySubscription, Enum, Error, ErrorExtensions as _, ID, InputObject,
    Object, Result, Schema, SimpleObject,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::clock::rfc3339;
use crate::state::lock;

/// The executable schema.
pub(crate) type PortalSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Shared, mutable portal data.
pub(crate) type PortalData = Arc<Mutex<Portal>>;

/// The calling service connection (API key and secret).
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct Viewer {
    /// The API key of the service connection.
    pub(crate) api_key: String,
    /// Always `SERVICE`: a key-and-secret connection is not a portal user.
    pub(crate) mode: String,
    /// `CLIENT_CREDENTIALS` (issued token) or `SELF_SIGNED_JWT`.
    pub(crate) auth_method: String,
}

/// A contact's lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum LifecycleStage {
    /// A new lead.
    Lead,
    /// Qualified and being worked.
    Prospect,
    /// A paying customer.
    Customer,
    /// No longer a customer.
    Churned,
}

/// A deal's pipeline stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum DealStage {
    /// Being qualified.
    Qualification,
    /// Proposal sent.
    Proposal,
    /// Negotiating terms.
    Negotiation,
    /// Won (closed).
    ClosedWon,
    /// Lost (closed).
    ClosedLost,
}

/// A person in the portal.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Contact {
    /// `contact-N`.
    pub(crate) id: ID,
    /// Given name.
    pub(crate) first_name: String,
    /// Family name.
    pub(crate) last_name: String,
    /// E-mail address (unique).
    pub(crate) email: String,
    /// Phone number.
    pub(crate) phone: Option<String>,
    /// Job title.
    pub(crate) job_title: Option<String>,
    /// Lifecycle stage.
    pub(crate) lifecycle_stage: LifecycleStage,
    /// Creation time, RFC 3339.
    pub(crate) created_at: String,
    #[graphql(skip)]
    pub(crate) number: usize,
    #[graphql(skip)]
    pub(crate) company: Option<usize>,
}

/// Third-party enrichment of a contact.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct ContactEnrichment {
    /// LinkedIn profile URL.
    pub(crate) linkedin_url: String,
    /// Seniority level.
    pub(crate) seniority: String,
    /// Lead score, 0–100.
    pub(crate) score: i32,
}

/// A company (account).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Company {
    /// `company-N`.
    pub(crate) id: ID,
    /// Name.
    pub(crate) name: String,
    /// Web domain.
    pub(crate) domain: String,
    /// Industry.
    pub(crate) industry: String,
    /// Head count.
    pub(crate) employee_count: i32,
    /// City.
    pub(crate) city: String,
    /// ISO 3166 country code.
    pub(crate) country: String,
    /// Creation time, RFC 3339.
    pub(crate) created_at: String,
    #[graphql(skip)]
    pub(crate) number: usize,
}

/// A sales opportunity.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Deal {
    /// `deal-N`.
    pub(crate) id: ID,
    /// Name.
    pub(crate) name: String,
    /// Amount in `currency`.
    pub(crate) amount: f64,
    /// ISO 4217 currency code.
    pub(crate) currency: String,
    /// Pipeline stage.
    pub(crate) stage: DealStage,
    /// Expected or actual close date (`YYYY-MM-DD`).
    pub(crate) close_date: Option<String>,
    /// Creation time, RFC 3339.
    pub(crate) created_at: String,
    #[graphql(skip)]
    pub(crate) number: usize,
    #[graphql(skip)]
    pub(crate) company: usize,
    #[graphql(skip)]
    pub(crate) contact: Option<usize>,
}

/// A note on a contact or a deal.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Note {
    /// `note-N`.
    pub(crate) id: ID,
    /// Text.
    pub(crate) body: String,
    /// Who wrote it.
    pub(crate) author: String,
    /// Creation time, RFC 3339.
    pub(crate) created_at: String,
    #[graphql(skip)]
    pub(crate) contact: Option<usize>,
    #[graphql(skip)]
    pub(crate) deal: Option<usize>,
}

/// Relay page information.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct PageInfo {
    /// Whether more items follow.
    pub(crate) has_next_page: bool,
    /// Whether items precede.
    pub(crate) has_previous_page: bool,
    /// Cursor of the first edge.
    pub(crate) start_cursor: Option<String>,
    /// Cursor of the last edge; pass it as `after` for the next page.
    pub(crate) end_cursor: Option<String>,
}

macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal, $plural:literal) => {
        #[doc = concat!("An edge to a ", $what, ".")]
        #[derive(Debug, Clone, SimpleObject)]
        pub(crate) struct $edge {
            /// Opaque cursor.
            pub(crate) cursor: String,
            #[doc = concat!("The ", $what, ".")]
            pub(crate) node: $node,
        }

        #[doc = concat!("A page of ", $plural, ".")]
        #[derive(Debug, Clone, SimpleObject)]
        pub(crate) struct $conn {
            /// The edges of this page.
            pub(crate) edges: Vec<$edge>,
            /// Paging information.
            pub(crate) page_info: PageInfo,
            /// Items matching the query, over all pages.
            pub(crate) total_count: i32,
        }

        impl $conn {
            fn build(items: Vec<$node>, first: Option<i32>, after: Option<String>) -> Result<Self> {
                let (start, take) = window(first, after.as_deref())?;
                let total = items.len();
                let edges: Vec<$edge> = items
                    .into_iter()
                    .enumerate()
                    .skip(start)
                    .take(take)
                    .map(|(i, node)| $edge {
                        cursor: cursor(i),
                        node,
                    })
                    .collect();
                Ok(Self {
                    page_info: PageInfo {
                        has_next_page: start + edges.len() < total,
                        has_previous_page: start > 0,
                        start_cursor: edges.first().map(|e| e.cursor.clone()),
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                    total_count: i32::try_from(total).unwrap_or(i32::MAX),
                })
            }
        }
    };
}

connection!(
    ContactConnection,
    ContactEdge,
    Contact,
    "contact",
    "contacts"
);
connection!(
    CompanyConnection,
    CompanyEdge,
    Company,
    "company",
    "companies"
);
connection!(DealConnection, DealEdge, Deal, "deal", "deals");

fn cursor(index: usize) -> String {
    STANDARD.encode(format!("cursor:{index}"))
}

fn coded(message: impl Into<String>, code: &'static str) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// `(start index, page size)` from `first` and `after`.
fn window(first: Option<i32>, after: Option<&str>) -> Result<(usize, usize)> {
    let take = match first {
        None => 10,
        Some(n) if (0..=50).contains(&n) => usize::try_from(n).unwrap_or(0),
        Some(_) => return Err(coded("first must be between 0 and 50", "BAD_USER_INPUT")),
    };
    let start = match after {
        None => 0,
        Some(c) => {
            let idx = STANDARD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    s.strip_prefix("cursor:")
                        .and_then(|n| n.parse::<usize>().ok())
                })
                .ok_or_else(|| coded("after is not a valid cursor", "BAD_USER_INPUT"))?;
            idx + 1
        }
    };
    Ok((start, take))
}

/// The portal's data.
#[derive(Debug)]
pub(crate) struct Portal {
    contacts: Vec<Contact>,
    companies: Vec<Company>,
    deals: Vec<Deal>,
    notes: Vec<Note>,
}

/// Seed timestamps start at 2024-03-01T10:00:00Z.
const SEED_EPOCH: i64 = 1_709_287_200;

const COMPANIES: [(&str, &str, &str, i32, &str, &str); 8] = [
    (
        "Acme Logistics",
        "acme-logistics.example",
        "Logistics",
        420,
        "Chicago",
        "US",
    ),
    (
        "Brightwave Energy",
        "brightwave.example",
        "Energy",
        1250,
        "Austin",
        "US",
    ),
    (
        "Corvid Analytics",
        "corvid.example",
        "Software",
        85,
        "Berlin",
        "DE",
    ),
    (
        "Dunmore Foods",
        "dunmore.example",
        "Food & Beverage",
        310,
        "Dublin",
        "IE",
    ),
    (
        "Elm Street Clinics",
        "elmstreet.example",
        "Healthcare",
        640,
        "Toronto",
        "CA",
    ),
    (
        "Fjord Outfitters",
        "fjord.example",
        "Retail",
        150,
        "Oslo",
        "NO",
    ),
    (
        "Granite Legal",
        "granite-legal.example",
        "Legal Services",
        45,
        "London",
        "GB",
    ),
    (
        "Helios Robotics",
        "helios.example",
        "Manufacturing",
        980,
        "Nagoya",
        "JP",
    ),
];
const FIRST: [&str; 25] = [
    "Ada", "Ben", "Carla", "Deepak", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luca", "Mei", "Nils", "Olivia", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wes", "Xin", "Yara",
];
const LAST: [&str; 25] = [
    "Lovelace", "Okoro", "Mendes", "Rao", "Petrova", "Haddad", "Kim", "Sato", "Duarte", "Berg",
    "Adeyemi", "Bianchi", "Lin", "Larsen", "Brown", "Ruiz", "Taylor", "Silva", "Nieminen", "Walsh",
    "Khan", "Novak", "Moore", "Zhao", "Haddad",
];
const TITLES: [&str; 5] = ["CTO", "Head of Sales", "Operations Manager", "Buyer", "CEO"];
const STAGES: [LifecycleStage; 4] = [
    LifecycleStage::Lead,
    LifecycleStage::Prospect,
    LifecycleStage::Customer,
    LifecycleStage::Churned,
];
const DEAL_STAGES: [DealStage; 5] = [
    DealStage::Qualification,
    DealStage::Proposal,
    DealStage::Negotiation,
    DealStage::ClosedWon,
    DealStage::ClosedLost,
];

fn at(offset_hours: usize) -> String {
    rfc3339(SEED_EPOCH + i64::try_from(offset_hours).unwrap_or(0) * 3600)
}

impl Portal {
    /// 8 companies, 25 contacts, 12 deals, 10 notes; always the same.
    pub(crate) fn seeded() -> Self {
        let companies = COMPANIES
            .iter()
            .enumerate()
            .map(
                |(i, (name, domain, industry, emp, city, country))| Company {
                    id: ID(format!("company-{}", i + 1)),
                    name: (*name).to_owned(),
                    domain: (*domain).to_owned(),
                    industry: (*industry).to_owned(),
                    employee_count: *emp,
                    city: (*city).to_owned(),
                    country: (*country).to_owned(),
                    created_at: at(i * 24),
                    number: i + 1,
                },
            )
            .collect::<Vec<_>>();
        let contacts = (0..25)
            .map(|i| {
                let domain = COMPANIES[i % 8].1;
                Contact {
                    id: ID(format!("contact-{}", i + 1)),
                    first_name: FIRST[i].to_owned(),
                    last_name: LAST[i].to_owned(),
                    email: format!(
                        "{}.{}@{domain}",
                        FIRST[i].to_lowercase(),
                        LAST[i].to_lowercase()
                    ),
                    phone: (i % 3 != 2).then(|| format!("+1-555-01{:02}", i + 1)),
                    job_title: Some(TITLES[i % TITLES.len()].to_owned()),
                    lifecycle_stage: STAGES[i % STAGES.len()],
                    created_at: at(200 + i * 5),
                    number: i + 1,
                    company: (i != 24).then_some(i % 8 + 1),
                }
            })
            .collect::<Vec<_>>();
        let deals = (0..12)
            .map(|i| Deal {
                id: ID(format!("deal-{}", i + 1)),
                name: format!(
                    "{} — {}",
                    COMPANIES[i % 8].0,
                    ["Renewal", "Expansion", "Pilot"][i % 3]
                ),
                amount: 5_000.0 + 2_500.0 * f64::from(u32::try_from(i).unwrap_or(0)),
                currency: if i % 4 == 3 { "EUR" } else { "USD" }.to_owned(),
                stage: DEAL_STAGES[i % DEAL_STAGES.len()],
                close_date: Some(format!("2024-{:02}-15", 4 + i % 9)),
                created_at: at(400 + i * 7),
                number: i + 1,
                company: i % 8 + 1,
                contact: Some(i % 25 + 1),
            })
            .collect::<Vec<_>>();
        let notes = (0..10)
            .map(|i| Note {
                id: ID(format!("note-{}", i + 1)),
                body: format!("Follow-up call #{}: discussed pricing and timeline.", i + 1),
                author: "sandbox-service".to_owned(),
                created_at: at(500 + i * 3),
                contact: (i % 2 == 0).then_some(i + 1),
                deal: (i % 2 == 1).then_some(i % 12 + 1),
            })
            .collect::<Vec<_>>();
        Self {
            contacts,
            companies,
            deals,
            notes,
        }
    }
}

fn portal<'a>(ctx: &Context<'a>) -> Result<&'a PortalData> {
    ctx.data::<PortalData>()
}

fn number_of(id: &ID, prefix: &str) -> Option<usize> {
    id.as_str()
        .strip_prefix(prefix)
        .and_then(|n| n.strip_prefix('-'))
        .and_then(|n| n.parse().ok())
}

#[ComplexObject]
impl Contact {
    /// `firstName lastName`.
    async fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The contact's company.
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        let p = lock(portal(ctx)?);
        Ok(self
            .company
            .and_then(|n| p.companies.iter().find(|c| c.number == n).cloned()))
    }

    /// Notes on this contact, oldest first.
    async fn notes(&self, ctx: &Context<'_>) -> Result<Vec<Note>> {
        let p = lock(portal(ctx)?);
        Ok(p.notes
            .iter()
            .filter(|n| n.contact == Some(self.number))
            .cloned()
            .collect())
    }

    /// Deals whose primary contact this is.
    async fn deals(&self, ctx: &Context<'_>) -> Result<Vec<Deal>> {
        let p = lock(portal(ctx)?);
        Ok(p.deals
            .iter()
            .filter(|d| d.contact == Some(self.number))
            .cloned()
            .collect())
    }

    /// Enrichment data. **Fails** (`ENRICHMENT_UNAVAILABLE`) for contacts whose number is a
    /// multiple of 5, so queries return partial data with `errors`.
    async fn enrichment(&self, ctx: &Context<'_>) -> Option<ContactEnrichment> {
        if self.number.is_multiple_of(5) {
            // Reported as a field error; the field itself becomes null (partial data).
            let err = coded(
                format!("enrichment provider unavailable for {}", self.id.as_str()),
                "ENRICHMENT_UNAVAILABLE",
            );
            ctx.add_error(ctx.set_error_path(err.into_server_error(ctx.item.pos)));
            return None;
        }
        Some(ContactEnrichment {
            linkedin_url: format!(
                "https://www.linkedin.example/in/{}-{}",
                self.first_name.to_lowercase(),
                self.last_name.to_lowercase()
            ),
            seniority: if self.number.is_multiple_of(2) {
                "SENIOR"
            } else {
                "MANAGER"
            }
            .to_owned(),
            score: i32::try_from((self.number * 37) % 101).unwrap_or(0),
        })
    }
}

#[ComplexObject]
impl Company {
    /// Contacts at this company.
    async fn contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        let p = lock(portal(ctx)?);
        Ok(p.contacts
            .iter()
            .filter(|c| c.company == Some(self.number))
            .cloned()
            .collect())
    }

    /// Deals with this company.
    async fn deals(&self, ctx: &Context<'_>) -> Result<Vec<Deal>> {
        let p = lock(portal(ctx)?);
        Ok(p.deals
            .iter()
            .filter(|d| d.company == self.number)
            .cloned()
            .collect())
    }
}

#[ComplexObject]
impl Deal {
    /// The company.
    async fn company(&self, ctx: &Context<'_>) -> Result<Option<Company>> {
        let p = lock(portal(ctx)?);
        Ok(p.companies
            .iter()
            .find(|c| c.number == self.company)
            .cloned())
    }

    /// The primary contact.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let p = lock(portal(ctx)?);
        Ok(self
            .contact
            .and_then(|n| p.contacts.iter().find(|c| c.number == n).cloned()))
    }

    /// Notes on this deal.
    async fn notes(&self, ctx: &Context<'_>) -> Result<Vec<Note>> {
        let p = lock(portal(ctx)?);
        Ok(p.notes
            .iter()
            .filter(|n| n.deal == Some(self.number))
            .cloned()
            .collect())
    }
}

#[ComplexObject]
impl Note {
    /// The contact the note is on, if any.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let p = lock(portal(ctx)?);
        Ok(self
            .contact
            .and_then(|n| p.contacts.iter().find(|c| c.number == n).cloned()))
    }

    /// The deal the note is on, if any.
    async fn deal(&self, ctx: &Context<'_>) -> Result<Option<Deal>> {
        let p = lock(portal(ctx)?);
        Ok(self
            .deal
            .and_then(|n| p.deals.iter().find(|d| d.number == n).cloned()))
    }
}

/// Filters for `contacts`.
#[derive(Debug, Default, InputObject)]
pub(crate) struct ContactFilter {
    /// Case-insensitive substring of the first name, last name, full name or e-mail.
    search: Option<String>,
    /// Only contacts of this company.
    company_id: Option<ID>,
    /// Only contacts in this stage.
    lifecycle_stage: Option<LifecycleStage>,
}

/// Filters for `deals`.
#[derive(Debug, Default, InputObject)]
pub(crate) struct DealFilter {
    /// Only deals in this stage.
    stage: Option<DealStage>,
    /// Only deals with this company.
    company_id: Option<ID>,
    /// Only deals of at least this amount.
    min_amount: Option<f64>,
}

/// The root query.
pub(crate) struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The calling service connection.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        ctx.data::<Viewer>().cloned()
    }

    /// Contacts, oldest first.
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0–50 (default 10).")] first: Option<i32>,
        #[graphql(desc = "Return items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Optional filters.")] filter: Option<ContactFilter>,
    ) -> Result<ContactConnection> {
        let f = filter.unwrap_or_default();
        let company = match &f.company_id {
            Some(id) => Some(
                number_of(id, "company")
                    .ok_or_else(|| coded("companyId is not a company id", "BAD_USER_INPUT"))?,
            ),
            None => None,
        };
        let needle = f.search.as_deref().map(str::to_lowercase);
        let items = lock(portal(ctx)?)
            .contacts
            .iter()
            .filter(|c| company.is_none_or(|n| c.company == Some(n)))
            .filter(|c| f.lifecycle_stage.is_none_or(|s| c.lifecycle_stage == s))
            .filter(|c| {
                needle.as_deref().is_none_or(|n| {
                    format!("{} {} {}", c.first_name, c.last_name, c.email)
                        .to_lowercase()
                        .contains(n)
                })
            })
            .cloned()
            .collect();
        ContactConnection::build(items, first, after)
    }

    /// One contact by id (`contact-N`), or null.
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Contact>> {
        let n = number_of(&id, "contact");
        Ok(lock(portal(ctx)?)
            .contacts
            .iter()
            .find(|c| Some(c.number) == n)
            .cloned())
    }

    /// Companies, by id.
    async fn companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0–50 (default 10).")] first: Option<i32>,
        #[graphql(desc = "Return items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Case-insensitive substring of the name or domain.")] search: Option<
            String,
        >,
    ) -> Result<CompanyConnection> {
        let needle = search.as_deref().map(str::to_lowercase);
        let items = lock(portal(ctx)?)
            .companies
            .iter()
            .filter(|c| {
                needle.as_deref().is_none_or(|n| {
                    format!("{} {}", c.name, c.domain)
                        .to_lowercase()
                        .contains(n)
                })
            })
            .cloned()
            .collect();
        CompanyConnection::build(items, first, after)
    }

    /// One company by id (`company-N`), or null.
    async fn company(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Company>> {
        let n = number_of(&id, "company");
        Ok(lock(portal(ctx)?)
            .companies
            .iter()
            .find(|c| Some(c.number) == n)
            .cloned())
    }

    /// Deals, by id.
    async fn deals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0–50 (default 10).")] first: Option<i32>,
        #[graphql(desc = "Return items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Optional filters.")] filter: Option<DealFilter>,
    ) -> Result<DealConnection> {
        let f = filter.unwrap_or_default();
        let company = match &f.company_id {
            Some(id) => Some(
                number_of(id, "company")
                    .ok_or_else(|| coded("companyId is not a company id", "BAD_USER_INPUT"))?,
            ),
            None => None,
        };
        let items = lock(portal(ctx)?)
            .deals
            .iter()
            .filter(|d| company.is_none_or(|n| d.company == n))
            .filter(|d| f.stage.is_none_or(|s| d.stage == s))
            .filter(|d| f.min_amount.is_none_or(|m| d.amount >= m))
            .cloned()
            .collect();
        DealConnection::build(items, first, after)
    }

    /// One deal by id (`deal-N`), or null.
    async fn deal(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Deal>> {
        let n = number_of(&id, "deal");
        Ok(lock(portal(ctx)?)
            .deals
            .iter()
            .find(|d| Some(d.number) == n)
            .cloned())
    }
}

/// Input of `createContact`.
#[derive(Debug, InputObject)]
pub(crate) struct CreateContactInput {
    /// Given name (non-empty).
    first_name: String,
    /// Family name (non-empty).
    last_name: String,
    /// E-mail (must look like an address and be unused).
    email: String,
    /// Phone number.
    phone: Option<String>,
    /// Job title.
    job_title: Option<String>,
    /// Company id (`company-N`).
    company_id: Option<ID>,
    /// Defaults to `LEAD`.
    lifecycle_stage: Option<LifecycleStage>,
}

/// Input of `addNote`: exactly one of `contactId` and `dealId`.
#[derive(Debug, InputObject)]
pub(crate) struct AddNoteInput {
    /// Text, 1–5000 characters.
    body: String,
    /// The contact to note on.
    contact_id: Option<ID>,
    /// The deal to note on.
    deal_id: Option<ID>,
}

/// The root mutation.
pub(crate) struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a contact.
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> Result<Contact> {
        let email = input.email.trim().to_owned();
        let valid_email = email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
        if !valid_email {
            return Err(coded("email is not a valid address", "BAD_USER_INPUT")
                .extend_with(|_, e| e.set("field", "email")));
        }
        if input.first_name.trim().is_empty() || input.last_name.trim().is_empty() {
            return Err(coded(
                "firstName and lastName must not be empty",
                "BAD_USER_INPUT",
            ));
        }
        let now = ctx.data::<super::Now>().map(|n| n.0).unwrap_or(SEED_EPOCH);
        let mut p = lock(portal(ctx)?);
        if p.contacts
            .iter()
            .any(|c| c.email.eq_ignore_ascii_case(&email))
        {
            return Err(
                coded("a contact with this email already exists", "BAD_USER_INPUT")
                    .extend_with(|_, e| e.set("field", "email")),
            );
        }
        let company = match &input.company_id {
            Some(id) => {
                let n =
                    number_of(id, "company").filter(|n| p.companies.iter().any(|c| c.number == *n));
                Some(n.ok_or_else(|| coded("no such company", "NOT_FOUND"))?)
            }
            None => None,
        };
        let number = p.contacts.iter().map(|c| c.number).max().unwrap_or(0) + 1;
        let contact = Contact {
            id: ID(format!("contact-{number}")),
            first_name: input.first_name,
            last_name: input.last_name,
            email,
            phone: input.phone,
            job_title: input.job_title,
            lifecycle_stage: input.lifecycle_stage.unwrap_or(LifecycleStage::Lead),
            created_at: rfc3339(now),
            number,
            company,
        };
        p.contacts.push(contact.clone());
        Ok(contact)
    }

    /// Adds a note to a contact or a deal.
    async fn add_note(&self, ctx: &Context<'_>, input: AddNoteInput) -> Result<Note> {
        let len = input.body.chars().count();
        if len == 0 || len > 5000 {
            return Err(coded(
                "body must hold 1 to 5000 characters",
                "BAD_USER_INPUT",
            ));
        }
        let now = ctx.data::<super::Now>().map(|n| n.0).unwrap_or(SEED_EPOCH);
        let mut p = lock(portal(ctx)?);
        let (contact, deal) = match (&input.contact_id, &input.deal_id) {
            (Some(c), None) => {
                let n =
                    number_of(c, "contact").filter(|n| p.contacts.iter().any(|x| x.number == *n));
                (
                    Some(n.ok_or_else(|| coded("no such contact", "NOT_FOUND"))?),
                    None,
                )
            }
            (None, Some(d)) => {
                let n = number_of(d, "deal").filter(|n| p.deals.iter().any(|x| x.number == *n));
                (
                    None,
                    Some(n.ok_or_else(|| coded("no such deal", "NOT_FOUND"))?),
                )
            }
            _ => {
                return Err(coded(
                    "give exactly one of contactId and dealId",
                    "BAD_USER_INPUT",
                ));
            }
        };
        let note = Note {
            id: ID(format!("note-{}", p.notes.len() + 1)),
            body: input.body,
            author: ctx
                .data::<Viewer>()
                .map(|v| v.api_key.clone())
                .unwrap_or_else(|_| "sandbox-service".to_owned()),
            created_at: rfc3339(now),
            contact,
            deal,
        };
        p.notes.push(note.clone());
        Ok(note)
    }

    /// Moves a deal to another stage. Closed deals (`CLOSED_WON`, `CLOSED_LOST`) cannot move.
    async fn update_deal_stage(&self, ctx: &Context<'_>, id: ID, stage: DealStage) -> Result<Deal> {
        let mut p = lock(portal(ctx)?);
        let n = number_of(&id, "deal");
        let Some(deal) = p.deals.iter_mut().find(|d| Some(d.number) == n) else {
            return Err(coded(format!("no deal {}", id.as_str()), "NOT_FOUND"));
        };
        if matches!(deal.stage, DealStage::ClosedWon | DealStage::ClosedLost) && deal.stage != stage
        {
            return Err(coded("the deal is closed", "BAD_USER_INPUT"));
        }
        deal.stage = stage;
        Ok(deal.clone())
    }
}

/// The schema without data (for SDL).
pub(crate) fn build(data: Option<PortalData>) -> PortalSchema {
    let b = Schema::build(QueryRoot, MutationRoot, EmptySubscription);
    match data {
        Some(d) => b.data(d).finish(),
        None => b.finish(),
    }
}
