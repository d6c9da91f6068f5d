//! Accounts and the JWT-looking tokens SimpleJWT would hand out for them.
//!
//! The tokens have the real shape (`header.payload.signature`, base64url without padding, an
//! HS256 header and SimpleJWT's claims) so a load test handles them as it would real ones. The
//! signature is a keyed non-cryptographic hash: it catches tampered or foreign tokens, it would
//! not stop an attacker, and it needs no crypto library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// One of the demo's fixed accounts: `admin` or `loaduser001`..=`loaduser200`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Account(u16);

impl Account {
    /// How many accounts exist; `index()` is below this.
    pub(crate) const COUNT: usize = 1 + LOAD_USERS as usize;

    /// The account these credentials open, if any.
    pub(crate) fn login(username: &str, password: &str) -> Option<Account> {
        let account = Account::named(username)?;
        let expected = if account.0 == 0 {
            ADMIN_PASSWORD
        } else {
            LOAD_PASSWORD
        };
        (password == expected).then_some(account)
    }

    /// The account called `username`, if there is one.
    pub(crate) fn named(username: &str) -> Option<Account> {
        if username == ADMIN_USERNAME {
            return Some(Account(0));
        }
        let digits = username.strip_prefix(LOAD_PREFIX)?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u16 = digits.parse().ok()?;
        (1..=LOAD_USERS).contains(&n).then_some(Account(n))
    }

    pub(crate) fn username(self) -> String {
        match self.0 {
            0 => ADMIN_USERNAME.to_owned(),
            n => format!("{LOAD_PREFIX}{n:03}"),
        }
    }

    /// Django's `user_id`: the admin was created first.
    pub(crate) fn user_id(self) -> u64 {
        u64::from(self.0) + 1
    }

    /// A dense index for per-account tables.
    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }
}

const ADMIN_USERNAME: &str = "admin";
const ADMIN_PASSWORD: &str = "adminpass";
const LOAD_PREFIX: &str = "loaduser";
const LOAD_PASSWORD: &str = "loadpass123";
const LOAD_USERS: u16 = 200;

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
            ("", "", None),
        ];
        for (user, password, index) in cases {
            let got = Account::login(user, password).map(Account::index);
            assert_eq!(got, index, "{user}/{password}");
        }
        assert_eq!(
            Account::named("loaduser007")
                .map(Account::username)
                .as_deref(),
            Some("loaduser007")
        );
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
