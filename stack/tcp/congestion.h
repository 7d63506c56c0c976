// Congestion control: the state every algorithm shares, and the choice between them.
//
// What every controller does the same way lives here: slow start (RFC 5681 3.1) with
// appropriate byte counting (RFC 3465), fast retransmit and fast recovery (RFC 5681 3.2) with
// NewReno's handling of partial acknowledgments (RFC 6582), all counted in bytes. With SACK agreed,
// recovery follows RFC 6675 instead: cwnd drops to ssthresh on entry and stays there, neither
// inflated by duplicates nor deflated by partial ACKs, because the sender then limits itself by
// its estimate of the bytes in the network (pipe), not by cwnd against the flight size. The
// initial window is ten segments (RFC 6928, as Linux).
//
// What differs is how far the window falls on a loss and how it grows in congestion avoidance:
//   - NewReno (newreno.h): halves it (RFC 5681 eq. 4) and grows one segment per round trip;
//   - CUBIC (cubic.h, RFC 9438): multiplies it by 0.7 and follows a cubic function of the time
//     since the loss, with HyStart++ (hystart.h, RFC 9406) ending the first slow start.
//
// The interface is one class with a one-bit tag, not a virtual base: the sender calls OnNewAck
// for every ACK of new data, and a branch on a bit the ACK path reads anyway costs less than an
// indirect call, keeps the state inside the connection (no allocation per connection), and
// lets a connection's controller be chosen at run time (TcpConfig::congestion_control,
// ConnectionOptions::congestion_control). The algorithms' own state shares one union: HyStart++
// runs only in the first slow start, before any congestion avoidance, so its round-trip minima
// and the congestion-avoidance state (Reno's byte count, CUBIC's W_max and epoch) are never live
// together. The whole controller is 40 bytes of the connection (docs/architecture.md).
//
// The TCB classifies each ACK (new data, duplicate per RFC 5681 2, or neither), sends what cwnd
// allows, and performs the retransmissions these methods ask for.
#ifndef TAPSTACK_STACK_TCP_CONGESTION_H_
#define TAPSTACK_STACK_TCP_CONGESTION_H_

#include <cstdint>
#include <limits>
#include <optional>

#include "stack/tcp/congestion_algorithm.h"
#include "stack/tcp/cubic.h"
#include "stack/tcp/hystart.h"
#include "stack/tcp/newreno.h"
#include "stack/tcp/rto.h"
#include "stack/tcp/seq.h"

namespace tapstack::tcp {

// What an ACK of new data tells the controller besides the bytes it acknowledged. NewReno reads
// none of it; CUBIC reads the time and SRTT, HyStart++ the RTT sample and SND.NXT.
struct AckSample {
  Duration now{};  // the connection's clock
  // The round trip this ACK measured (RFC 6298 or RFC 7323), if it measured one.
  std::optional<Duration> rtt;
  Duration srtt{};  // RFC 6298 SRTT, zero before the first sample
  Seq snd_nxt;      // the highest sequence number sent (HyStart++'s rounds)
  // Whether the window, rather than the application or the peer's window, limited what was in
  // flight when the ACK came. Only then does cwnd grow (OnNewAck).
  bool cwnd_limited = true;
};

class CongestionControl {
 public:
  // RFC 6928: IW = 10 segments. Linux applies it whatever the MSS; so do we (RFC 6928's cap of
  // max(2 * MSS, 14600) bytes is not applied).
  static constexpr std::uint32_t kInitialWindowSegments = 10;
  // RFC 5681 3.2 step 2: fast retransmit on the third duplicate ACK.
  static constexpr std::uint32_t kDuplicateAckThreshold = 3;
  // RFC 5681 3.1: "ssthresh MAY be set arbitrarily high": an initial value no window reaches.
  static constexpr std::uint32_t kInfiniteSsthresh = std::numeric_limits<std::uint32_t>::max();

  // `mss` is the sender's maximum segment size (SMSS); 0 is treated as 1.
  CongestionControl(std::uint32_t mss, CongestionAlgorithm algorithm);

  CongestionAlgorithm algorithm() const {
    return cubic_ ? CongestionAlgorithm::kCubic : CongestionAlgorithm::kNewReno;
  }
  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  std::uint32_t mss() const { return mss_; }
  bool in_recovery() const { return in_recovery_; }
  bool in_slow_start() const { return cwnd_ < ssthresh_; }
  // RFC 6675 recovery (the sender counts pipe) instead of RFC 5681 / RFC 6582 window inflation.
  // Set once the connection knows SACK was agreed.
  void set_sack_recovery(bool on) { sack_recovery_ = on; }
  // Duplicate ACKs seen since the last ACK of new data (saturating at 255); the TCB may use 1
  // and 2 for limited transmit (RFC 3042).
  std::uint32_t duplicate_acks() const { return duplicate_acks_; }
  // HyStart++'s state while it runs (the first slow start under CUBIC), else nullptr.
  const HyStart* hystart() const { return hystart_running_ ? &state_.hystart : nullptr; }
  // CUBIC's state once HyStart++ is over, else nullptr (NewReno, or HyStart++ still running).
  const Cubic* cubic() const { return cubic_ && !hystart_running_ ? &state_.cubic : nullptr; }

  // A cumulative ACK `ack` advanced SND.UNA by `bytes_acked` (> 0). Outside recovery this grows
  // cwnd, slow start or congestion avoidance, when the sample says the window limited the
  // sender: a window the sender does not fill has not been shown to be safe, and growing it
  // would let a later burst out at a rate the path never carried (RFC 7661, which RFC 9438 4.2
  // applies to CUBIC; Linux grows neither of its controllers otherwise). In fast recovery (RFC
  // 6582 3.2 step 3):
  //   - a full ACK (covering `recover`, the highest sequence number sent when recovery began)
  //     ends recovery with cwnd = ssthresh;
  //   - a partial ACK deflates cwnd by bytes_acked (adding back one MSS when at least one MSS was
  //     acknowledged), stays in recovery and returns true: the caller must retransmit the first
  //     unacknowledged segment now. The caller restarts the retransmission timer on every ACK of
  //     new data anyway (RFC 6298 5.3), which is RFC 6582's "Slow-but-Steady" variant.
  // Returns false otherwise. In RFC 6675 recovery a partial ACK changes nothing here and returns
  // false: the sender's scoreboard picks what to resend.
  bool OnNewAck(Seq ack, std::uint32_t bytes_acked, const AckSample& sample = {});

  // A duplicate ACK (RFC 5681 2, checked by the caller); `snd_una` is its acknowledgment number.
  // On the third in a row, outside recovery, and only if the ACK covers more than `recover`
  // (RFC 6582 3.2 step 2, which keeps one loss episode from triggering several reductions):
  // ssthresh = max(FlightSize * beta, 2 * MSS) (RFC 5681 eq. 4 with beta = 1/2, RFC 9438 4.6
  // with beta = 0.7), recover = SND.NXT - 1, cwnd = ssthresh + 3 * MSS, and it returns true: the
  // caller must fast-retransmit the first unacknowledged segment now. Each further duplicate
  // during recovery inflates cwnd by one MSS (RFC 5681 3.2 step 4), letting the caller send new
  // data as segments leave the network. In RFC 6675 recovery cwnd = ssthresh on entry, and
  // further duplicates leave it.
  bool OnDuplicateAck(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size);

  // The sender's scoreboard says the byte at SND.UNA is lost (RFC 6675 IsLost) before three
  // duplicates were counted (RFC 6675 5 step 2): enter recovery as the third duplicate would, under
  // the same RFC 6582 condition. Returns whether recovery began (the caller retransmits).
  bool OnLossDetected(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size);

  // A tail loss probe repaired a loss (RFC 8985 7.4.2): respond as to a loss found by fast
  // recovery, without a recovery episode: ssthresh = max(cwnd * beta, 2 * MSS), cwnd = ssthresh.
  void OnLossRepairedByProbe();

  // The retransmission timer expired: ssthresh = max(FlightSize * beta, 2 * MSS) (RFC 5681 3.1
  // eq. 4, RFC 9438 4.8), cwnd = 1 MSS (the loss window), recover = SND.NXT - 1 and fast recovery
  // ends (RFC 6582 3.2 step 4). `flight_size` is the data outstanding before the timeout.
  void OnRetransmitTimeout(std::uint32_t flight_size, Seq snd_nxt);

  // The timeout that made `before` into this controller was spurious (RFC 3522): `flight_before`
  // bytes were in flight at the timeout, `flight_size` are now, after the ACK `ack` that showed
  // it, which acknowledged `bytes_acked`. RFC 9438 4.9: the algorithm's state (CUBIC's W_max and
  // epoch, or Reno's count) and the recovery point go back to what they were; RFC 4015: ssthresh
  // becomes the larger of the old one and the flight at the timeout, and cwnd the flight plus at
  // most an initial window (never more than before), so that slow start climbs back to the old
  // window within a round trip instead of releasing it in one burst.
  // A timeout during fast recovery is undone only by an ACK that completes that recovery (the
  // reduction for the loss that began it stands: ssthresh stays where recovery put it); for one
  // that does not, this returns false and changes nothing, since the recovery's own state (the
  // sender's pipe and HighRxt) is gone.
  bool UndoTimeout(const CongestionControl& before, Seq ack, std::uint32_t flight_before,
                   std::uint32_t flight_size, std::uint32_t bytes_acked);

  // The MSS changed (negotiated MSS option, path MTU). Before any ACK or loss has touched cwnd the
  // initial window is recomputed from the new MSS; afterwards only later increments use it.
  void set_mss(std::uint32_t mss);

 private:
  // Slow start, with HyStart++ while it runs.
  void GrowInSlowStart(Seq ack, std::uint32_t bytes_acked, const AckSample& sample);
  // Congestion avoidance: NewReno's or CUBIC's growth.
  void GrowInAvoidance(std::uint32_t bytes_acked, const AckSample& sample);
  // HyStart++ is over (slow start ended without a loss, or a loss ended it): the union becomes
  // the congestion-avoidance state.
  void StopHyStart();
  // A loss: the algorithm's reduction of ssthresh from `basis` (RFC 5681 eq. 4 or RFC 9438 4.6),
  // never below two segments, and CUBIC's W_max. `timeout` says the retransmission timer found it.
  void OnCongestionEvent(std::uint32_t basis, bool timeout);
  // Whether a loss detected with this ACK may start recovery (RFC 6582 3.2 step 2), and if so
  // starts it (RFC 5681 3.2 steps 2 and 3, RFC 6675 5 step 4.2).
  bool EnterRecovery(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size);

  // The algorithms' own state: which member is live follows from cubic_ and hystart_running_.
  union AlgorithmState {
    AlgorithmState() : reno() {}
    RenoGrowth reno;  // NewReno in congestion avoidance
    HyStart hystart;  // CUBIC, while HyStart++ runs
    Cubic cubic;      // CUBIC afterwards
  };

  std::uint32_t mss_;
  std::uint32_t cwnd_;
  std::uint32_t ssthresh_ = kInfiniteSsthresh;
  // RFC 6582 "recover": the highest sequence number sent when fast recovery or a timeout last
  // happened. Valid while recover_set_: unset before the first one (RFC 6582 sets it to the ISS,
  // which every ACK covers) and again once SND.UNA has passed it, so that a stale value can never
  // wrap around and look recent in sequence-space comparisons.
  Seq recover_;
  std::uint8_t duplicate_acks_ = 0;
  bool recover_set_ : 1 = false;
  bool in_recovery_ : 1 = false;
  bool sack_recovery_ : 1 = false;
  // RFC 3465 2.3: slow start right after a timeout counts at most one MSS per ACK.
  bool slow_start_after_timeout_ : 1 = false;
  // cwnd is still the untouched initial window, so set_mss may recompute it.
  bool initial_window_ : 1 = true;
  bool cubic_ : 1 = false;            // the algorithm: CUBIC, else NewReno
  bool hystart_running_ : 1 = false;  // state_.hystart is live
  AlgorithmState state_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_CONGESTION_H_
