//! Accounts and the JWT-looking tokens SimpleJWT would hand out for them.
//!
//! The tokens have the real shape (`header.payload.signature`, base64url without padding, an
//! HS256 header and SimpleJWT's claims) so a load test handles them as it would real ones. The
//! signature is a keyed non-cryptographic hash: it catches tampered or foreign tokens, it would
//! not stop an attacker, and it needs no crypto library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// One of the demo's fixed accounts: the superuser `admin`, the load accounts `loaduser001` to
/// `loaduser200` (project managers: they see everything but the admin pages) and the admin load
/// accounts `loadadmin001` to `loadadmin020` (staff, like Django's `is_staff`).
///
/// Inside, a dense number: 0 is `admin`, 1..=200 the load users, 201..=220 the load admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Account(u16);

impl Account {
    /// How many accounts exist; `index()` is below this.
    pub(crate) const COUNT: usize = 1 + LOAD_USERS as usize + LOAD_ADMINS as usize;

    /// The account these credentials open, if any.
    pub(crate) fn login(username: &str, password: &str) -> Option<Account> {
        let account = Account::named(username)?;
        let expected = match account.kind() {
            AccountKind::Superuser => ADMIN_PASSWORD,
            AccountKind::LoadUser(_) => LOAD_PASSWORD,
            AccountKind::LoadAdmin(_) => LOAD_ADMIN_PASSWORD,
        };
        (password == expected).then_some(account)
    }

    /// The account called `username`, if there is one.
    pub(crate) fn named(username: &str) -> Option<Account> {
        if username == ADMIN_USERNAME {
            return Some(Account(0));
        }
        let numbered = |prefix: &str, count: u16| {
            let digits = username.strip_prefix(prefix)?;
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u16 = digits.parse().ok()?;
            (1..=count).contains(&n).then_some(n)
        };
        // `loadadmin` does not start with `loaduser`, so the two never both match.
        numbered(LOAD_USER_PREFIX, LOAD_USERS)
            .map(Account)
            .or_else(|| numbered(LOAD_ADMIN_PREFIX, LOAD_ADMINS).map(|n| Account(LOAD_USERS + n)))
    }

    fn kind(self) -> AccountKind {
        match self.0 {
            0 => AccountKind::Superuser,
            n if n <= LOAD_USERS => AccountKind::LoadUser(n),
            n => AccountKind::LoadAdmin(n - LOAD_USERS),
        }
    }

    pub(crate) fn username(self) -> String {
        match self.kind() {
            AccountKind::Superuser => ADMIN_USERNAME.to_owned(),
            AccountKind::LoadUser(n) => format!("{LOAD_USER_PREFIX}{n:03}"),
            AccountKind::LoadAdmin(n) => format!("{LOAD_ADMIN_PREFIX}{n:03}"),
        }
    }

    /// Django's `is_staff`, which DRF's `IsAdminUser` checks: the admin pages answer 403 to
    /// every other account.
    pub(crate) fn is_staff(self) -> bool {
        !matches!(self.kind(), AccountKind::LoadUser(_))
    }

    /// Django's `user_id`: the admin was created first.
    pub(crate) fn user_id(self) -> u64 {
        u64::from(self.0) + 1
    }

    /// The id of the account's employee record, which time entries name. It is not the
    /// `user_id` (Kibray keeps employees in a table of their own): `loaduser017` is employee
    /// 17, `loadadmin003` is employee 203, and the superuser has none. (What `accounts.csv`
    /// says, which the tests check; the server itself only needs `Catalog::has_employee`.)
    #[cfg(test)]
    pub(crate) fn employee(self) -> Option<u64> {
        match self.kind() {
            AccountKind::Superuser => None,
            AccountKind::LoadUser(_) | AccountKind::LoadAdmin(_) => Some(u64::from(self.0)),
        }
    }

    /// A dense index for per-account tables.
    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Which group an account belongs to, with its number in that group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountKind {
    Superuser,
    LoadUser(u16),
    LoadAdmin(u16),
}

const ADMIN_USERNAME: &str = "admin";
const ADMIN_PASSWORD: &str = "adminpass";
const LOAD_USER_PREFIX: &str = "loaduser";
const LOAD_PASSWORD: &str = "loadpass123";
pub(crate) const LOAD_USERS: u16 = 200;
const LOAD_ADMIN_PREFIX: &str = "loadadmin";
const LOAD_ADMIN_PASSWORD: &str = "adminpass123";
pub(crate) const LOAD_ADMINS: u16 = 20;

/// Long enough that a demo never sees a token expire mid-run; SimpleJWT's default is 5 minutes.
const ACCESS_LIFETIME_SECS: u64 = 24 * 3600;
const REFRESH_LIFETIME_SECS: u64 = 7 * 24 * 3600;

/// Which of SimpleJWT's token classes a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

/// SimpleJWT's claims plus the username, which is what the demo authenticates by.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    token_type: TokenKind,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: u64,
    username: String,
}

/// Issues and verifies tokens under one key.
pub(crate) struct Signer {
    key: u64,
    header: String,
}

impl Signer {
    pub(crate) fn new(key: u64) -> Signer {
        Signer {
            key,
            header: URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        }
    }

    /// A token for `account`, issued at `now` (Unix seconds), with `jti` as its unique id.
    pub(crate) fn issue(&self, account: Account, kind: TokenKind, now: u64, jti: u128) -> String {
        let lifetime = match kind {
            TokenKind::Access => ACCESS_LIFETIME_SECS,
            TokenKind::Refresh => REFRESH_LIFETIME_SECS,
        };
        let claims = Claims {
            token_type: kind,
            exp: now + lifetime,
            iat: now,
            jti: format!("{jti:032x}"),
            user_id: account.user_id(),
            username: account.username(),
        };
        let payload = serde_json::to_vec(&claims).unwrap_or_else(|_| {
            unreachable!("claims are plain strings and numbers, always serializable")
        });
        let signing_input = format!("{}.{}", self.header, URL_SAFE_NO_PAD.encode(payload));
        let signature = self.sign(&signing_input);
        format!("{signing_input}.{signature}")
    }

    /// The account of a valid, unexpired access token; `None` for anything else.
    pub(crate) fn verify_access(&self, token: &str, now: u64) -> Option<Account> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if header != self.header || signature != self.sign(signing_input) {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let account = Account::named(&claims.username)?;
        let valid = claims.token_type == TokenKind::Access
            && claims.exp > now
            && claims.user_id == account.user_id();
        valid.then_some(account)
    }

    /// 32 bytes from four keyed mixes of an FNV-1a hash, base64url like an HS256 MAC.
    fn sign(&self, signing_input: &str) -> String {
        let digest = signing_input
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64 ^ self.key, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let mut mac = [0_u8; 32];
        for (lane, chunk) in mac.chunks_exact_mut(8).enumerate() {
            let word = splitmix64(digest ^ self.key.rotate_left(lane as u32 * 16) ^ lane as u64);
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        URL_SAFE_NO_PAD.encode(mac)
    }
}

/// SplitMix64's finalizer: a cheap, well-spread 64-bit mix.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_750_000_000;

    #[test]
    fn accounts_are_exactly_the_documented_ones() {
        let cases = [
            ("admin", "adminpass", Some(0)),
            ("admin", "loadpass123", None),
            ("loaduser001", "loadpass123", Some(1)),
            ("loaduser200", "loadpass123", Some(200)),
            ("loaduser000", "loadpass123", None),
            ("loaduser201", "loadpass123", None),
            ("loaduser1", "loadpass123", None),
            ("loaduser042", "wrong", None),
            ("loadadmin001", "adminpass123", Some(201)),
            ("loadadmin020", "adminpass123", Some(220)),
            ("loadadmin001", "loadpass123", None),
            ("loadadmin021", "adminpass123", None),
            ("loadadmin000", "adminpass123", None),
            ("loadadmin01", "adminpass123", None),
            ("", "", None),
        ];
        for (user, password, index) in cases {
            let got = Account::login(user, password).map(Account::index);
            assert_eq!(got, index, "{user}/{password}");
        }
        for name in [
            "admin",
            "loaduser007",
            "loaduser200",
            "loadadmin001",
            "loadadmin020",
        ] {
            let account = Account::named(name).unwrap();
            assert_eq!(account.username(), name);
            assert!(account.index() < Account::COUNT);
        }
    }

    #[test]
    fn staff_and_employees_follow_the_account_group() {
        let cases = [
            ("admin", true, None, 1),
            ("loaduser001", false, Some(1), 2),
            ("loaduser200", false, Some(200), 201),
            ("loadadmin001", true, Some(201), 202),
            ("loadadmin020", true, Some(220), 221),
        ];
        for (name, staff, employee, user_id) in cases {
            let account = Account::named(name).unwrap();
            assert_eq!(account.is_staff(), staff, "{name}");
            assert_eq!(account.employee(), employee, "{name}");
            assert_eq!(account.user_id(), user_id, "{name}");
        }
    }

    #[test]
    fn access_tokens_round_trip_and_tampering_is_caught() {
        let signer = Signer::new(42);
        let account = Account::named("loaduser017").unwrap();
        let token = signer.issue(account, TokenKind::Access, NOW, 7);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(signer.verify_access(&token, NOW + 60), Some(account));

        let expired = NOW + ACCESS_LIFETIME_SECS;
        assert_eq!(signer.verify_access(&token, expired), None, "expired");
        assert_eq!(
            Signer::new(43).verify_access(&token, NOW),
            None,
            "other key"
        );

        let refresh = signer.issue(account, TokenKind::Refresh, NOW, 8);
        assert_eq!(
            signer.verify_access(&refresh, NOW),
            None,
            "refresh is not access"
        );

        // Swap in another user's payload but keep the signature.
        let other = signer.issue(Account::named("admin").unwrap(), TokenKind::Access, NOW, 7);
        let parts: Vec<&str> = token.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
        assert_eq!(signer.verify_access(&forged, NOW), None, "forged payload");
        assert_eq!(signer.verify_access("not-a-token", NOW), None);
    }
}
