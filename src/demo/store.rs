//! The demo's data: a seeded catalog that never changes (projects, schedule) and bounded tables
//! that requests write to (tasks, time entries).

use std::collections::BTreeMap;
use std::fmt::Display;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Serialize, Serializer};

use super::token::{LOAD_ADMINS, LOAD_USERS};

/// Rows created by requests that each table keeps; older ones are forgotten first, so a long
/// demo runs in bounded memory. Seeded rows are never forgotten.
pub(crate) const CREATED_ROWS_KEPT: usize = 10_000;

const PROJECT_COUNT: u64 = 57;
/// Every load account has an employee record (`Account::employee`): 1..=200 are the load
/// users' (employee 17 is `loaduser017`), 201..=220 the load admins'. No other employee exists,
/// so a time entry for employee 221 is refused like one for a deleted employee.
const EMPLOYEE_COUNT: u64 = LOAD_USERS as u64 + LOAD_ADMINS as u64;
/// Seeded tasks and time entries belong to the load users' employees, the field crew.
const SEEDED_EMPLOYEES: u64 = LOAD_USERS as u64;

/// Status of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProjectStatus {
    Planning,
    InProgress,
    OnHold,
    Completed,
}

/// Status of a task; the labels are Kibray's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum TaskStatus {
    Pending,
    #[serde(rename = "In Progress")]
    InProgress,
    #[serde(rename = "Under Review")]
    UnderReview,
    Completed,
    Cancelled,
}

impl TaskStatus {
    /// Every status with the label a client sends, for validation and filters.
    pub(crate) const CHOICES: [(TaskStatus, &'static str); 5] = [
        (TaskStatus::Pending, "Pending"),
        (TaskStatus::InProgress, "In Progress"),
        (TaskStatus::UnderReview, "Under Review"),
        (TaskStatus::Completed, "Completed"),
        (TaskStatus::Cancelled, "Cancelled"),
    ];

    /// Position in `CHOICES`, which lists the statuses in declaration order.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Priority of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub(crate) const CHOICES: [(Priority, &'static str); 4] = [
        (Priority::Low, "low"),
        (Priority::Medium, "medium"),
        (Priority::High, "high"),
        (Priority::Urgent, "urgent"),
    ];
}

/// A project as the list shows it; the detail view adds the `detail` part.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Project {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) status: ProjectStatus,
    pub(crate) client: String,
    #[serde(serialize_with = "display")]
    pub(crate) start_date: NaiveDate,
    /// Whole dollars; shown as DRF shows a `DecimalField`, `"125000.00"`.
    #[serde(serialize_with = "dollars")]
    pub(crate) budget: u64,
    pub(crate) progress: u8,
    #[serde(skip)]
    pub(crate) detail: ProjectDetail,
}

/// The fields only `GET projects/{id}/` shows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProjectDetail {
    pub(crate) address: String,
    pub(crate) description: String,
    #[serde(serialize_with = "display")]
    pub(crate) end_date: NaiveDate,
    pub(crate) project_manager: String,
    #[serde(serialize_with = "dollars")]
    pub(crate) budget_labor: u64,
    #[serde(serialize_with = "dollars")]
    pub(crate) budget_materials: u64,
    #[serde(serialize_with = "dollars")]
    pub(crate) spent: u64,
    #[serde(serialize_with = "timestamp")]
    pub(crate) created_at: DateTime<Utc>,
}

/// A task; `project` is a project id.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Task {
    pub(crate) id: u64,
    pub(crate) project: u64,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) status: TaskStatus,
    pub(crate) priority: Priority,
    pub(crate) assigned_to: Option<u64>,
    #[serde(serialize_with = "optional_display")]
    pub(crate) due_date: Option<NaiveDate>,
    #[serde(serialize_with = "timestamp")]
    pub(crate) created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    pub(crate) updated_at: DateTime<Utc>,
}

/// A time entry; hours are known once `end_time` is. Work not yet booked to a project has
/// none, as Kibray allows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TimeEntry {
    pub(crate) id: u64,
    pub(crate) employee: u64,
    pub(crate) project: Option<u64>,
    #[serde(serialize_with = "display")]
    pub(crate) date: NaiveDate,
    #[serde(serialize_with = "display")]
    pub(crate) start_time: NaiveTime,
    #[serde(serialize_with = "optional_display")]
    pub(crate) end_time: Option<NaiveTime>,
    /// Hundredths of an hour; shown as `"7.50"`.
    #[serde(serialize_with = "optional_hours")]
    pub(crate) hours_worked: Option<u32>,
    pub(crate) notes: String,
    #[serde(serialize_with = "timestamp")]
    pub(crate) created_at: DateTime<Utc>,
}

impl TimeEntry {
    /// Hundredths of an hour from `start` to `end`, or `None` if `end` is not later.
    pub(crate) fn hours_between(start: NaiveTime, end: NaiveTime) -> Option<u32> {
        let minutes = (end - start).num_minutes();
        (minutes > 0).then(|| (minutes * 100 / 60) as u32)
    }
}

/// A bar on a project's schedule.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScheduleItem {
    pub(crate) id: u64,
    pub(crate) project: u64,
    pub(crate) title: String,
    #[serde(serialize_with = "display")]
    pub(crate) start_date: NaiveDate,
    #[serde(serialize_with = "display")]
    pub(crate) end_date: NaiveDate,
    pub(crate) percent_complete: u8,
    pub(crate) is_milestone: bool,
}

/// Everything seeded at start that requests only read.
pub(crate) struct Catalog {
    /// Ordered by id, ids `1..=projects.len()`.
    pub(crate) projects: Vec<Project>,
    /// Ordered by start date.
    pub(crate) schedule: Vec<ScheduleItem>,
}

impl Catalog {
    pub(crate) fn project(&self, id: u64) -> Option<&Project> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.projects.get(index)
    }

    pub(crate) fn has_project(&self, id: u64) -> bool {
        self.project(id).is_some()
    }

    pub(crate) fn has_employee(id: u64) -> bool {
        (1..=EMPLOYEE_COUNT).contains(&id)
    }
}

/// Rows by id, with the rows requests created capped at `CREATED_ROWS_KEPT`.
pub(crate) struct Table<T> {
    rows: BTreeMap<u64, T>,
    /// Ids below this were seeded and are kept forever.
    first_created_id: u64,
    next_id: u64,
}

impl<T> Table<T> {
    fn seeded(rows: Vec<T>, id: impl Fn(&T) -> u64) -> Table<T> {
        let rows: BTreeMap<u64, T> = rows.into_iter().map(|row| (id(&row), row)).collect();
        let next_id = rows.last_key_value().map_or(1, |(id, _)| id + 1);
        Table {
            rows,
            first_created_id: next_id,
            next_id,
        }
    }

    /// Stores the row `make` builds for the next id, forgetting the oldest created row if full.
    pub(crate) fn insert(&mut self, make: impl FnOnce(u64) -> T) -> &T {
        let id = self.next_id;
        self.next_id += 1;
        if id - self.first_created_id >= CREATED_ROWS_KEPT as u64 {
            let oldest = self
                .rows
                .range(self.first_created_id..)
                .next()
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.rows.remove(&oldest);
            }
        }
        self.rows.entry(id).or_insert(make(id))
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.rows.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.rows.get_mut(&id)
    }

    /// Newest first, the order Kibray lists by (`-created_at`).
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &T> + Clone {
        self.rows.values().rev()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}

/// Seeds the catalog and the two writable tables from `seed`.
pub(crate) fn seed(seed: u64) -> (Catalog, Table<Task>, Table<TimeEntry>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let projects: Vec<Project> = (1..=PROJECT_COUNT)
        .map(|id| seed_project(id, &mut rng))
        .collect();

    let mut tasks = Vec::new();
    let mut schedule = Vec::new();
    for project in &projects {
        for _ in 0..rng.random_range(4..=14) {
            tasks.push(seed_task(tasks.len() as u64 + 1, project, &mut rng));
        }
        let phases = rng.random_range(4..=8);
        for (phase, title) in PHASES.iter().take(phases).enumerate() {
            schedule.push(seed_schedule_item(
                schedule.len() as u64 + 1,
                project,
                phase,
                title,
            ));
        }
    }
    schedule.sort_by_key(|item: &ScheduleItem| (item.start_date, item.id));

    let entries = (1..=600)
        .map(|id| seed_time_entry(id, &projects, &mut rng))
        .collect();
    let catalog = Catalog { projects, schedule };
    (
        catalog,
        Table::seeded(tasks, |t| t.id),
        Table::seeded(entries, |e| e.id),
    )
}

/// The day the seeded data is arranged around; fixed so a seed always gives the same data.
fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 2).unwrap_or_default()
}

fn at_day_start(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

fn seed_project(id: u64, rng: &mut SmallRng) -> Project {
    let i = (id - 1) as usize;
    // Street and kind indices are chosen so no two of the 57 names repeat.
    let street = STREETS[i % STREETS.len()];
    let kind = KINDS[(i * 3 + i / STREETS.len()) % KINDS.len()];
    let status = match rng.random_range(0..100) {
        0..12 => ProjectStatus::Planning,
        12..70 => ProjectStatus::InProgress,
        70..80 => ProjectStatus::OnHold,
        _ => ProjectStatus::Completed,
    };
    let progress = match status {
        ProjectStatus::Planning => rng.random_range(0..=10),
        ProjectStatus::InProgress => rng.random_range(10..=95),
        ProjectStatus::OnHold => rng.random_range(5..=70),
        ProjectStatus::Completed => 100,
    };
    let start_date = base_date() - Days::new(rng.random_range(0..=300));
    let end_date = start_date + Days::new(rng.random_range(14..=180));
    let budget = rng.random_range(160..=9000) * 50;
    let budget_labor = budget * rng.random_range(45..=65) / 100;
    let spent = budget * u64::from(progress) * rng.random_range(80..=125) / 10_000;
    Project {
        id,
        name: format!("{street} {kind}"),
        status,
        client: CLIENTS[rng.random_range(0..CLIENTS.len())].to_owned(),
        start_date,
        budget,
        progress,
        detail: ProjectDetail {
            address: format!("{} {street} Rd, Denver, CO", rng.random_range(100..=9999)),
            description: format!("{kind} for the {street} site: prep, prime and two finish coats."),
            end_date,
            project_manager: MANAGERS[rng.random_range(0..MANAGERS.len())].to_owned(),
            budget_labor,
            budget_materials: budget - budget_labor,
            spent,
            created_at: at_day_start(start_date) - TimeDelta::days(rng.random_range(3..=30)),
        },
    }
}

fn seed_task(id: u64, project: &Project, rng: &mut SmallRng) -> Task {
    let status = match (project.status, rng.random_range(0..100)) {
        (ProjectStatus::Completed, 0..95) => TaskStatus::Completed,
        (ProjectStatus::Completed, _) => TaskStatus::Cancelled,
        (_, 0..35) => TaskStatus::Pending,
        (_, 35..60) => TaskStatus::InProgress,
        (_, 60..70) => TaskStatus::UnderReview,
        (_, 70..97) => TaskStatus::Completed,
        _ => TaskStatus::Cancelled,
    };
    let created_at = at_day_start(project.start_date)
        + TimeDelta::minutes(rng.random_range(8 * 60..=40 * 24 * 60));
    Task {
        id,
        project: project.id,
        title: format!(
            "{} ({})",
            ACTIONS[rng.random_range(0..ACTIONS.len())],
            AREAS[rng.random_range(0..AREAS.len())]
        ),
        description: String::new(),
        status,
        priority: Priority::CHOICES[rng.random_range(0..Priority::CHOICES.len())].0,
        assigned_to: rng
            .random_bool(0.8)
            .then(|| rng.random_range(1..=SEEDED_EMPLOYEES)),
        due_date: Some(project.start_date + Days::new(rng.random_range(3..=120))),
        created_at,
        updated_at: created_at + TimeDelta::hours(rng.random_range(0..=240)),
    }
}

fn seed_schedule_item(id: u64, project: &Project, phase: usize, title: &str) -> ScheduleItem {
    let span = (project.detail.end_date - project.start_date)
        .num_days()
        .max(8) as u64;
    let step = span / 8;
    let start_date = project.start_date + Days::new(step * phase as u64);
    let end_date = start_date + Days::new(step.max(1) * 2);
    let done_phases = f64::from(project.progress) / 100.0 * 8.0 - phase as f64;
    ScheduleItem {
        id,
        project: project.id,
        title: title.to_owned(),
        start_date,
        end_date,
        percent_complete: (done_phases.clamp(0.0, 1.0) * 100.0) as u8,
        is_milestone: title == "Final walkthrough",
    }
}

fn seed_time_entry(id: u64, projects: &[Project], rng: &mut SmallRng) -> TimeEntry {
    let project = &projects[rng.random_range(0..projects.len())];
    let date = base_date() - Days::new(rng.random_range(0..60));
    let start_time =
        NaiveTime::from_hms_opt(rng.random_range(6..=9), 15 * rng.random_range(0..4), 0)
            .unwrap_or(NaiveTime::MIN);
    let end_time = start_time + TimeDelta::minutes(15 * rng.random_range(16..=40));
    TimeEntry {
        id,
        employee: rng.random_range(1..=SEEDED_EMPLOYEES),
        project: Some(project.id),
        date,
        start_time,
        end_time: Some(end_time),
        hours_worked: TimeEntry::hours_between(start_time, end_time),
        notes: String::new(),
        created_at: at_day_start(date) + TimeDelta::hours(18),
    }
}

const STREETS: [&str; 20] = [
    "Maple",
    "Cedar",
    "Harbor",
    "Willow",
    "Summit",
    "Aspen",
    "Bayview",
    "Granite",
    "Juniper",
    "Lakeside",
    "Magnolia",
    "Oakridge",
    "Pinecrest",
    "Redwood",
    "Sagebrush",
    "Timberline",
    "Westfield",
    "Brookside",
    "Canyon",
    "Elmwood",
];
const KINDS: [&str; 10] = [
    "Residence Repaint",
    "Kitchen Remodel",
    "Exterior Stain",
    "Office Build-Out",
    "Deck Refinish",
    "Cabinet Refinish",
    "Townhome Repaint",
    "Clubhouse Renovation",
    "Retail Fit-Out",
    "Garage Conversion",
];
const CLIENTS: [&str; 12] = [
    "Hernández Family",
    "Summit Property Group",
    "Bluebird HOA",
    "Castillo Builders",
    "Northwind Offices",
    "Peak Dental",
    "Alder & Co.",
    "Riverbend Church",
    "Greenleaf Apartments",
    "Ortega Residence",
    "Copperline Retail",
    "Mountain View School District",
];
const MANAGERS: [&str; 5] = [
    "Ana Morales",
    "Ben Carter",
    "Chloe Nguyen",
    "Diego Ruiz",
    "Erin Walsh",
];
const ACTIONS: [&str; 14] = [
    "Prep and mask trim",
    "Prime drywall patches",
    "Apply first coat",
    "Apply finish coat",
    "Stain deck boards",
    "Caulk windows",
    "Pressure wash siding",
    "Order materials",
    "Color consultation",
    "Touch-up punch list",
    "Sand cabinet doors",
    "Repair stucco cracks",
    "Spray ceiling",
    "Inspect moisture damage",
];
const AREAS: [&str; 9] = [
    "Living room",
    "Kitchen",
    "North elevation",
    "Garage",
    "Primary bath",
    "Hallway",
    "Exterior trim",
    "Stairwell",
    "Back deck",
];
const PHASES: [&str; 8] = [
    "Site walk and estimate",
    "Surface prep",
    "Repairs",
    "Priming",
    "First coat",
    "Finish coat",
    "Touch-ups",
    "Final walkthrough",
];

fn display<S: Serializer>(value: &impl Display, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn optional_display<S: Serializer, T: Display>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => s.collect_str(value),
        None => s.serialize_none(),
    }
}

fn dollars<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{value}.00"))
}

fn optional_hours<S: Serializer>(value: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(h) => s.collect_str(&format_args!("{}.{:02}", h / 100, h % 100)),
        None => s.serialize_none(),
    }
}

/// DRF's default datetime format: ISO 8601 with microseconds and `Z`.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

fn timestamp<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&value.format(TIMESTAMP_FORMAT))
}

/// The current time as DRF prints a datetime.
pub(crate) fn now_text() -> String {
    Utc::now().format(TIMESTAMP_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_deterministic_and_names_are_unique() {
        let (a, tasks_a, _) = seed(5);
        let (b, tasks_b, _) = seed(5);
        let names: Vec<&str> = a.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            b.projects
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
        );
        assert_eq!(tasks_a.len(), tasks_b.len());
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 57);
        assert!(a.project(57).is_some() && a.project(58).is_none() && a.project(0).is_none());
    }

    #[test]
    fn created_rows_are_capped_and_seeded_rows_kept() {
        let (_, mut tasks, _) = seed(1);
        let seeded = tasks.len();
        let first_created = tasks.next_id;
        let template = tasks.get(1).cloned().unwrap();
        for _ in 0..CREATED_ROWS_KEPT + 3 {
            tasks.insert(|id| Task {
                id,
                ..template.clone()
            });
        }
        assert_eq!(tasks.len(), seeded + CREATED_ROWS_KEPT);
        assert!(tasks.get(1).is_some(), "seeded rows stay");
        assert!(
            tasks.get(first_created + 2).is_none(),
            "oldest created rows go first"
        );
        assert!(tasks.get(first_created + 3).is_some());
        assert_eq!(
            tasks.newest_first().next().map(|t| t.id),
            Some(tasks.next_id - 1)
        );
    }

    #[test]
    fn status_index_matches_choices() {
        for (i, (status, _)) in TaskStatus::CHOICES.iter().enumerate() {
            assert_eq!(status.index(), i);
        }
    }

    #[test]
    fn hours_are_hundredths() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(TimeEntry::hours_between(t(8, 0), t(15, 30)), Some(750));
        assert_eq!(TimeEntry::hours_between(t(8, 0), t(8, 0)), None);
    }
}
