//! PRIVACY.md "What the other party of a call can see": exactly these headers leave in our INVITE
//! and our 200 OK, the device shows itself as `Ferrophone/<version>` and a random `.invalid`
//! contact host, and nothing else identifies the browser. A new header fails this test until
//! PRIVACY.md says what it reveals.
mod common;
use common::*;
use ferrophone_ua::message::Method;

fn names(headers: &ferrophone_ua::message::Headers) -> Vec<String> {
    let mut v: Vec<String> = headers.iter().map(|h| h.name.to_ascii_lowercase()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn our_invite_shows_the_aor_a_random_contact_host_and_the_program_name() {
    let (mut sim, _reg) = registered_sim(1251);
    let (_id, invite) = dial_out(&mut sim, "bob");
    assert_eq!(invite.method, Method::Invite);
    assert_eq!(
        names(&invite.headers),
        [
            "allow",
            "call-id",
            "contact",
            "content-length",
            "content-type",
            "cseq",
            "from",
            "max-forwards",
            "min-se",
            "session-expires",
            "supported",
            "to",
            "user-agent",
            "via"
        ]
    );
    assert_eq!(invite.headers.get("User-Agent"), Some(ferrophone_ua::USER_AGENT));
    assert!(ferrophone_ua::USER_AGENT.starts_with("Ferrophone/"));
    let contact = invite.headers.get("Contact").unwrap();
    let host = contact.split('@').nth(1).unwrap().split([';', '>']).next().unwrap();
    assert!(host.ends_with(".invalid") && host.len() > ".invalid".len() + 8, "random contact host: {contact}");
    assert!(invite.headers.get("From").unwrap().contains("sip:alice@sip.example.com"));
}

#[test]
fn our_200_shows_the_same_and_server() {
    let (mut sim, _reg) = registered_sim(1252);
    let (_id, ok) = answer_unacked(&mut sim, "far-end-sees-1", "");
    assert_eq!(
        names(&ok.headers),
        [
            "allow",
            "allow-events",
            "call-id",
            "contact",
            "content-length",
            "content-type",
            "cseq",
            "from",
            "record-route",
            "server",
            "supported",
            "to",
            "via"
        ]
    );
    assert_eq!(ok.headers.get("Server"), Some(ferrophone_ua::USER_AGENT));
    assert!(ok.headers.get("Contact").unwrap().contains(".invalid"));
}
