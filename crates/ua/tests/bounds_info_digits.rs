//! Attack: one SIP INFO carrying thousands of `Signal=` lines became thousands of `Dtmf` events
//! (each one a broadcast to every extension page). Now one INFO yields at most
//! `MAX_INFO_DIGITS` (8) digits; the rest are dropped and logged, and the INFO is still 200.
mod common;
use common::*;

fn info_with_signals(call_id: &str, tag: &str, cseq: u32, digits: &str) -> Vec<u8> {
    let body: String = digits.chars().map(|d| format!("Signal={d}\r\nDuration=160\r\n")).collect();
    let base =
        String::from_utf8(in_dialog_from_bob("INFO", call_id, tag, cseq, &format!("z9hG4bKinfo{cseq}"), None)).unwrap();
    base.replacen(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Type: application/dtmf-relay\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
        1,
    )
    .into_bytes()
}

#[test]
fn one_info_carries_at_most_eight_digits() {
    let (mut sim, id, tag) = answered_incoming(400, "inf-1", "");
    sim.take_sent();
    let digits: String = "0123456789*#ABCD".repeat(100); // 1,600 digits in one request
    sim.deliver(&info_with_signals("inf-1", &tag, 11, &digits));
    assert_eq!(sim.last_response().status, 200, "the INFO itself is accepted");
    let got: Vec<char> = sim.dtmf.iter().map(|(_, d)| *d).collect();
    assert_eq!(got.len(), 8, "digits reported from one INFO");
    assert_eq!(got, "01234567".chars().collect::<Vec<_>>(), "only the first 8 digits become events");
    assert!(sim.dtmf.iter().all(|(c, _)| *c == id));
    assert!(
        sim.logs.iter().any(|l| l.contains("1592") && l.contains("dropped")),
        "the dropped digits are logged: {:?}",
        sim.logs.iter().rev().take(3).collect::<Vec<_>>()
    );
    // A normal INFO afterwards still reports its digit.
    sim.deliver(&info_with_signals("inf-1", &tag, 12, "5"));
    assert_eq!(sim.dtmf.len(), 9);
    assert_eq!(sim.dtmf.last().unwrap().1, '5');
}
