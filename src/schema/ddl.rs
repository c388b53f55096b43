//! The DDL plan's model (MySQL/MariaDB), no I/O: a pending DDL statement's algorithm and
//! lock ([`Ddl`], learnt by `compare::ddl` during the rehearsal), what they mean, how a clause
//! is appended to a statement, the duration estimate, and the gates (`--max-algorithm`,
//! `--max-lock`) that refuse a run whose plan is over them.

use serde::Serialize;

/// The locks, least first.
pub const LOCKS: [&str; 3] = ["NONE", "SHARED", "EXCLUSIVE"];
/// Every algorithm any flavour knows, cheapest first (the gates' order).
pub const ALGORITHMS: [&str; 4] = ["INSTANT", "NOCOPY", "INPLACE", "COPY"];

/// Bytes per second an INPLACE rebuild or a COPY moves (data and indexes), and a NOCOPY
/// index build reads: fixed rates measured on MariaDB 11 on the development machine
/// (PackageDepends, 1,000,000 rows, 127 MB: COPY 3.8 s, INPLACE rebuild 3.4 s, ADD INDEX
/// NOCOPY 0.7 s), not calibrated on the target server.
pub const REBUILD_BYTES_PER_S: f64 = 33_000_000.0;
pub const NOCOPY_BYTES_PER_S: f64 = 180_000_000.0;

/// The plan of one pending DDL statement.
#[derive(Debug, Clone, Serialize)]
pub struct Ddl {
    pub version: u64,
    pub file: String,
    pub line: u32,
    pub table: String,
    pub algorithm: String,
    pub lock: String,
    /// The statement's kind: `alter` (`ALTER TABLE`), `index` (`CREATE`/`DROP INDEX`),
    /// `rename` (`RENAME TABLE`: metadata only, no clause) or `optimize` (`OPTIMIZE TABLE`,
    /// planned as the rebuild `ALTER TABLE … FORCE` it is on InnoDB).
    pub kind: String,
    /// The live table's estimated rows and bytes (data and indexes).
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    /// Seconds, from `bytes` and a rate ([`estimate`]); `None` for INSTANT.
    pub estimate_s: Option<f64>,
    /// How the estimate's rate was found: `calibrated` (timed on this server during the
    /// rehearsal) or `fixed-rate`; `None` without an estimate.
    pub estimate_method: Option<String>,
    /// The migration's `-- aurweb-migrate: allow-lock=…` directive, if any.
    pub allow_lock: Option<String>,
}

impl Ddl {
    /// What the algorithm and lock mean for the table's users, in words.
    pub fn meaning(&self) -> String {
        if self.kind == "rename" {
            return "renames the table, changing only metadata; an exclusive metadata lock, \
                    held briefly (reads and writes wait for it)"
                .to_string();
        }
        let algorithm = match self.algorithm.as_str() {
            "INSTANT" => "changes only the table's metadata",
            "NOCOPY" => "works in place without rebuilding the table",
            "INPLACE" => "rebuilds the table in place",
            _ => "copies the whole table",
        };
        let lock = match self.lock.as_str() {
            "NONE" => "reads and writes go on",
            "SHARED" => "writes blocked, reads go on",
            _ => "reads and writes blocked",
        };
        format!("{algorithm}; {lock}")
    }

    /// The clause enforcement appends to the statement.
    /// `INSTANT` without a `LOCK` part: it takes no lock beyond the metadata lock, and MySQL 8
    /// refuses any `LOCK` but `DEFAULT` with it.
    pub fn clause(&self) -> String {
        if self.kind == "rename" {
            return "RENAME TABLE (no clause)".to_string();
        }
        match self.algorithm.as_str() {
            "INSTANT" => "ALGORITHM=INSTANT".to_string(),
            _ => format!("ALGORITHM={}, LOCK={}", self.algorithm, self.lock),
        }
    }
}

/// The estimated duration of `algorithm` on a table of `bytes`, at `rebuild` bytes per
/// second for an INPLACE rebuild or a COPY (calibrated on the server, or
/// [`REBUILD_BYTES_PER_S`]); a NOCOPY index build at that rate scaled by the fixed rates'
/// ratio ([`NOCOPY_BYTES_PER_S`] / [`REBUILD_BYTES_PER_S`]).
pub fn estimate(algorithm: &str, bytes: Option<u64>, rebuild: f64) -> Option<f64> {
    let rate = match algorithm {
        "INSTANT" => return None,
        "NOCOPY" => rebuild * (NOCOPY_BYTES_PER_S / REBUILD_BYTES_PER_S),
        _ => rebuild,
    };
    bytes.map(|b| ((b as f64 / rate) * 100.0).round() / 100.0)
}

/// The rebuild rate in bytes per second from a timed sample: `bytes` rebuilt in `with_s`
/// seconds, less `empty_s`, the same rebuild of the empty table (the fixed cost of making the
/// new table, which a large table does not repeat). `None` when the sample is too small to
/// time (under [`MIN_SAMPLE_BYTES`], whose timing is mostly noise, or no time over the fixed
/// cost).
pub fn calibrated_rate(bytes: u64, with_s: f64, empty_s: f64) -> Option<f64> {
    let moved = with_s - empty_s;
    (bytes >= MIN_SAMPLE_BYTES && moved > 0.000_5).then(|| bytes as f64 / moved)
}

/// The smallest sample a rate is calibrated on: a smaller table is estimated at the fixed
/// rate (its rebuild is short either way).
pub const MIN_SAMPLE_BYTES: u64 = 256 * 1024;

/// How a clause is appended to a DDL statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `ALTER TABLE t …, ALGORITHM=X, LOCK=Y`
    Alter,
    /// `CREATE INDEX … ALGORITHM=X LOCK=Y`, `DROP INDEX … ALGORITHM=X LOCK=Y`
    Index,
    /// `RENAME TABLE a TO b`: metadata only, takes no clause; it runs as written.
    Rename,
    /// `OPTIMIZE TABLE t`: on InnoDB the rebuild `ALTER TABLE t FORCE` ([`Target::learnt`]);
    /// takes no clause, so it is planned but not enforced.
    Optimize,
}

/// A DDL statement the plan covers (`ALTER TABLE`, `CREATE … INDEX`, `DROP INDEX`): the
/// table it changes, how a clause is appended, and the `ALGORITHM`/`LOCK` it states itself
/// (uppercased; `DEFAULT` counts as not stated). A stated part is never appended (the last
/// clause would win over the author's); the other part is learnt and enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub table: String,
    pub form: Form,
    pub algorithm: Option<String>,
    pub lock: Option<String>,
}

impl Target {
    /// The statement the plan is learnt with: `ALTER TABLE t FORCE` for `OPTIMIZE TABLE t`
    /// (what InnoDB runs), the statement itself otherwise.
    pub fn learnt(&self, sql: &str) -> String {
        match self.form {
            Form::Optimize => format!(
                "ALTER TABLE {} FORCE",
                crate::dialect::Dialect::Mysql.quote_ident(&self.table)
            ),
            _ => sql.to_string(),
        }
    }

    /// The plan's `kind` (see [`Ddl::kind`]).
    pub fn kind(&self) -> &'static str {
        match self.form {
            Form::Alter => "alter",
            Form::Index => "index",
            Form::Rename => "rename",
            Form::Optimize => "optimize",
        }
    }
}

/// The [`Target`] of a statement; `None` for any statement the plan does not cover.
/// `RENAME TABLE` and `OPTIMIZE TABLE` of one table only (a list is not covered).
pub fn target(sql: &str) -> Option<Target> {
    let tokens: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty() && !w.starts_with("--"))
        .map(str::to_string)
        .collect();
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let at = |w: &str| upper.iter().position(|t| t == w);
    let name = |i: usize| {
        let raw = tokens.get(i)?;
        let last = raw.rsplit('.').next()?.trim_matches('`').to_string();
        (!last.is_empty()).then_some(last)
    };
    let (table, form) = match upper.first().map(String::as_str) {
        Some("ALTER") => {
            let t = at("TABLE")?;
            let skip = if upper.get(t + 1).is_some_and(|w| w == "IF") {
                2
            } else {
                0
            };
            (name(t + 1 + skip)?, Form::Alter)
        }
        Some("CREATE" | "DROP") if at("INDEX").is_some() => (name(at("ON")? + 1)?, Form::Index),
        Some("RENAME") if upper.get(1).is_some_and(|w| w == "TABLE") && !sql.contains(',') => {
            (name(2)?, Form::Rename)
        }
        Some("OPTIMIZE") if !sql.contains(',') => {
            let t = at("TABLE")?;
            let name = name(t + 1).filter(|_| upper.len() == t + 2)?;
            (name, Form::Optimize)
        }
        _ => return None,
    };
    if matches!(form, Form::Rename | Form::Optimize) {
        return Some(Target {
            table,
            form,
            algorithm: None,
            lock: None,
        });
    }
    Some(Target {
        table,
        form,
        algorithm: stated(&upper, "ALGORITHM"),
        lock: stated(&upper, "LOCK"),
    })
}

/// The value of `ALGORITHM [=] X` or `LOCK [=] X` among the uppercased tokens of a statement
/// (`None` when absent or `DEFAULT`).
fn stated(upper: &[String], word: &str) -> Option<String> {
    let i = upper
        .iter()
        .position(|t| t == word || t.starts_with(&format!("{word}=")))?;
    let rest: Vec<&str> = std::iter::once(&upper[i][word.len()..])
        .chain(upper[i + 1..].iter().map(String::as_str))
        .flat_map(|t| t.split('='))
        .map(|t| t.trim_matches(','))
        .filter(|t| !t.is_empty())
        .take(1)
        .collect();
    let value = rest.first()?.to_string();
    (value != "DEFAULT").then_some(value)
}

/// `sql` with the parts of a clause given appended (on a new line, after any trailing
/// comment).
pub fn with_clause(sql: &str, form: Form, algorithm: Option<&str>, lock: Option<&str>) -> String {
    let body = sql.trim_end().trim_end_matches(';');
    let parts: Vec<String> = [("ALGORITHM", algorithm), ("LOCK", lock)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect();
    if parts.is_empty() {
        return body.to_string();
    }
    match form {
        Form::Alter => format!("{body}\n, {}", parts.join(", ")),
        Form::Index => format!("{body}\n{}", parts.join(" ")),
        Form::Rename | Form::Optimize => body.to_string(),
    }
}

/// The statement with the proven clause of `plan` appended (its parts the statement does not
/// state itself), for enforcement; `None` for a statement that takes no clause
/// (`RENAME TABLE`, `OPTIMIZE TABLE`), which runs as written.
pub fn enforced(sql: &str, plan: &Ddl) -> Option<String> {
    let t = target(sql);
    if t.as_ref()
        .is_some_and(|t| matches!(t.form, Form::Rename | Form::Optimize))
    {
        return None;
    }
    Some(match t {
        Some(t) => with_clause(
            sql,
            t.form,
            t.algorithm.is_none().then_some(plan.algorithm.as_str()),
            (t.lock.is_none() && plan.algorithm != "INSTANT").then_some(plan.lock.as_str()),
        ),
        None => sql.to_string(),
    })
}

/// The gates a run is held to (`--max-algorithm`, `--max-lock`; uppercase).
#[derive(Debug, Clone, Default)]
pub struct Gates {
    pub max_algorithm: Option<String>,
    pub max_lock: Option<String>,
}

impl Gates {
    pub fn any(&self) -> bool {
        self.max_algorithm.is_some() || self.max_lock.is_some()
    }

    /// Why `plan` is over the gates (`None`: within them). A migration's `allow-lock`
    /// directive raises the lock gate to what it allows.
    pub fn over(&self, plan: &Ddl) -> Option<String> {
        let rank = |list: &[&str], v: &str| list.iter().position(|x| x.eq_ignore_ascii_case(v));
        let mut why = Vec::new();
        if let Some(max) = &self.max_algorithm {
            if rank(&ALGORITHMS, &plan.algorithm) > rank(&ALGORITHMS, max) {
                why.push(format!(
                    "ALGORITHM={} is over --max-algorithm {max}",
                    plan.algorithm
                ));
            }
        }
        if let Some(max) = &self.max_lock {
            let allowed = plan
                .allow_lock
                .as_deref()
                .filter(|a| rank(&LOCKS, a) > rank(&LOCKS, max))
                .unwrap_or(max);
            if rank(&LOCKS, &plan.lock) > rank(&LOCKS, allowed) {
                why.push(format!("LOCK={} is over --max-lock {max}", plan.lock));
            }
        }
        (!why.is_empty()).then(|| why.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_clause_of_each_ddl_form() {
        let t = |sql: &str| target(sql).map(|t| (t.table, t.form, t.algorithm, t.lock));
        let alter = |n: &str| Some((n.to_string(), Form::Alter, None, None));
        assert_eq!(
            t("ALTER TABLE `PackageDepends` ADD COLUMN x INT"),
            alter("PackageDepends")
        );
        assert_eq!(
            t("alter online table IF EXISTS db.t MODIFY a INT"),
            alter("t")
        );
        assert_eq!(
            t("CREATE UNIQUE INDEX i ON t(a)"),
            Some(("t".into(), Form::Index, None, None))
        );
        assert_eq!(
            t("DROP INDEX i ON `t`"),
            Some(("t".into(), Form::Index, None, None))
        );
        assert_eq!(
            t("ALTER TABLE t ADD c INT, ALGORITHM=copy"),
            Some(("t".into(), Form::Alter, Some("COPY".into()), None))
        );
        assert_eq!(
            t("ALTER TABLE t ADD c INT, ALGORITHM = DEFAULT, LOCK = shared"),
            Some(("t".into(), Form::Alter, None, Some("SHARED".into())))
        );
        assert_eq!(
            t("CREATE INDEX i ON t (a) LOCK NONE"),
            Some(("t".into(), Form::Index, None, Some("NONE".into())))
        );
        assert_eq!(
            t("RENAME TABLE `old` TO new_name"),
            Some(("old".into(), Form::Rename, None, None))
        );
        assert_eq!(t("RENAME TABLE a TO b, c TO d"), None);
        assert_eq!(
            t("OPTIMIZE TABLE db.`PackageDepends`;"),
            Some(("PackageDepends".into(), Form::Optimize, None, None))
        );
        assert_eq!(
            target("OPTIMIZE TABLE `t`")
                .unwrap()
                .learnt("OPTIMIZE TABLE `t`"),
            "ALTER TABLE `t` FORCE"
        );
        assert_eq!(t("OPTIMIZE TABLE a, b"), None);
        assert_eq!(
            t("ALTER TABLE t RENAME TO u"),
            Some(("t".into(), Form::Alter, None, None))
        );
        assert_eq!(t("INSERT INTO t VALUES (1)"), None);
        assert_eq!(t("CREATE TABLE t (a INT)"), None);
        assert_eq!(
            with_clause(
                "ALTER TABLE t ADD c INT -- why\n",
                Form::Alter,
                Some("INSTANT"),
                Some("NONE")
            ),
            "ALTER TABLE t ADD c INT -- why\n, ALGORITHM=INSTANT, LOCK=NONE"
        );
        assert_eq!(
            with_clause(
                "CREATE INDEX i ON t (a);",
                Form::Index,
                Some("NOCOPY"),
                Some("NONE")
            ),
            "CREATE INDEX i ON t (a)\nALGORITHM=NOCOPY LOCK=NONE"
        );
        assert_eq!(
            with_clause(
                "ALTER TABLE t ADD c INT, ALGORITHM=COPY",
                Form::Alter,
                None,
                Some("SHARED")
            ),
            "ALTER TABLE t ADD c INT, ALGORITHM=COPY\n, LOCK=SHARED"
        );
    }

    #[test]
    fn gates_order_algorithms_and_locks_and_the_directive_raises_the_lock_gate() {
        let plan = |algorithm: &str, lock: &str, allow: Option<&str>| Ddl {
            version: 1,
            file: "m/1.sql".into(),
            line: 1,
            table: "t".into(),
            algorithm: algorithm.into(),
            lock: lock.into(),
            kind: "alter".into(),
            rows: None,
            bytes: None,
            estimate_s: None,
            estimate_method: None,
            allow_lock: allow.map(str::to_string),
        };
        let g = Gates {
            max_algorithm: Some("INPLACE".into()),
            max_lock: Some("NONE".into()),
        };
        assert!(g.over(&plan("NOCOPY", "NONE", None)).is_none());
        assert!(g
            .over(&plan("COPY", "NONE", None))
            .unwrap()
            .contains("ALGORITHM=COPY"));
        assert!(g
            .over(&plan("INPLACE", "SHARED", None))
            .unwrap()
            .contains("LOCK=SHARED"));
        assert!(g
            .over(&plan("INPLACE", "EXCLUSIVE", Some("EXCLUSIVE")))
            .is_none());
        assert!(g
            .over(&plan("INPLACE", "EXCLUSIVE", Some("SHARED")))
            .is_some());
        // INSTANT is enforced without a LOCK part; a stated part is never appended.
        assert_eq!(
            enforced("ALTER TABLE t ADD c INT", &plan("INSTANT", "NONE", None)).unwrap(),
            "ALTER TABLE t ADD c INT\n, ALGORITHM=INSTANT"
        );
        assert_eq!(
            enforced("OPTIMIZE TABLE t", &plan("INPLACE", "NONE", None)),
            None
        );
        assert_eq!(
            enforced(
                "ALTER TABLE t MODIFY a BIGINT, LOCK=SHARED",
                &plan("COPY", "SHARED", None)
            )
            .unwrap(),
            "ALTER TABLE t MODIFY a BIGINT, LOCK=SHARED\n, ALGORITHM=COPY"
        );
        let fixed = REBUILD_BYTES_PER_S;
        assert_eq!(estimate("INSTANT", Some(1), fixed), None);
        assert_eq!(estimate("COPY", Some(33_000_000), fixed), Some(1.0));
        assert_eq!(estimate("COPY", Some(33_000_000), 66e6), Some(0.5));
        assert_eq!(estimate("NOCOPY", Some(180_000_000), fixed), Some(1.0));
        assert_eq!(estimate("COPY", None, fixed), None);
        assert_eq!(calibrated_rate(1_000_000, 0.06, 0.01), Some(20_000_000.0));
        assert_eq!(calibrated_rate(1_000_000, 0.01, 0.02), None);
        assert_eq!(calibrated_rate(100_000, 0.06, 0.01), None);
    }
}
