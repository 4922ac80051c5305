//! Every scenario of the reference's conformance checklist, and the
//! walkthrough, through real messages in the FVM.

use paych_integration_tests::scenarios;

use crate::bundle;

macro_rules! scenario_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                // Strict mode: the first failed expectation panics with the
                // receipt's failure info.
                let h = scenarios::$name(bundle(), false);
                assert!(!h.steps().is_empty(), "the scenario executed no messages");
            }
        )*

        /// The list above and `scenarios::ALL` name the same scenarios.
        #[test]
        fn every_scenario_has_a_test() {
            let tested = [$(stringify!($name)),*];
            let all: Vec<&str> = scenarios::ALL.iter().map(|(name, _)| *name).collect();
            assert_eq!(tested.to_vec(), all);
        }
    };
}

scenario_tests!(
    create_paych_actor,
    constructor_resolves_key_addresses_to_ids,
    constructor_creates_accounts_for_new_key_addresses,
    constructor_rejects_parties_without_code,
    constructor_only_from_init,
    create_lane,
    redeem_voucher_one_lane,
    redeem_voucher_correct_lane,
    redeem_voucher_nonce_reuse,
    merge_success,
    merge_failure,
    invalid_merge_lane_999,
    lane_limits,
    extra_call_succeed,
    extra_call_fail,
    authenticate_message_outcomes,
    bls_signed_vouchers,
    update_channel_settling,
    secret_preimage,
    settle,
    collect_happy_path,
    collect_refusals,
    caller_gating,
    dispatch_errors,
    walkthrough,
    extra_call_fail_returns_callee_data,
    authentication_failure_returns_signer_data,
    reentrant_settle_in_extra_call,
    reentrant_voucher_in_extra_call,
    read_only_state_writes,
    read_only_collect_of_an_empty_channel,
    corrupt_state,
    second_constructor_is_refused,
    settle_at_the_end_of_the_epoch_range,
    unknown_builtin_type_is_not_builtin,
    placeholder_and_ethaccount_signers_give_24,
    built_ins_answer_extra_calls_as_the_real_ones,
    built_ins_refuse_user_actor_callers,
);
