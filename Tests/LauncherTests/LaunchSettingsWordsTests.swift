import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import Testing

@testable import LauncherApp

/// The launch-setting enums meet MusterDRS's wire types at the launcher's
/// boundary: a known word becomes DRS's constant, a word DRS added later is
/// sent as received, and an equal word changes nothing.
@Suite("Launch-setting words at the DRS boundary")
struct LaunchSettingsWordsTests {
    func settings(_ disposition: DRSLaunchDisposition?, _ sizing: DRSRightSizingMethod?) -> ServerLaunchSettings {
        ServerLaunchSettings(profile: "p", settings: LaunchProfile(
            launchDisposition: disposition, targetInstanceTypeRightSizingMethod: sizing))
    }

    @Test func knownWordsBecomeDRSConstants() throws {
        let current = LaunchConfiguration(launchDisposition: .started, targetInstanceTypeRightSizingMethod: .basic)
        let update = try #require(LaunchSettingsRules.configurationUpdate(
            current: current, server: "s-1", settings: settings(.stopped, .inAWS)))
        #expect(update.sourceServerID == "s-1")
        #expect(update.launchDisposition == .stopped)
        #expect(update.targetInstanceTypeRightSizingMethod == .inAws)
    }

    @Test func aWordDRSAddedLaterIsSentAsReceived() throws {
        let current = LaunchConfiguration(launchDisposition: .started, targetInstanceTypeRightSizingMethod: .basic)
        let update = try #require(LaunchSettingsRules.configurationUpdate(
            current: current, server: "s-2", settings: settings(.unknown("HIBERNATED"), nil)))
        #expect(update.launchDisposition?.rawValue == "HIBERNATED")
        #expect(update.targetInstanceTypeRightSizingMethod == nil)
        let same = LaunchConfiguration(launchDisposition: LaunchDisposition(rawValue: "HIBERNATED"))
        #expect(LaunchSettingsRules.configurationUpdate(current: same, server: "s-2",
                                                        settings: settings(.unknown("HIBERNATED"), nil)) == nil,
                "DRS already has that word: nothing to change")
    }

    @Test func plainOverridesCompareByDRSWord() {
        let configuration = LaunchConfiguration(launchDisposition: .stopped, targetInstanceTypeRightSizingMethod: TargetInstanceTypeRightSizingMethod.none,
                                                copyPrivateIp: false, copyTags: true)
        let same = LaunchOverrides(launchDisposition: .stopped, targetInstanceTypeRightSizingMethod: DRSRightSizingMethod.none)
        #expect(LaunchConfigurationCheck.update(for: configuration, server: "s-3", overrides: same, repairEmpty: true) == nil)
        let other = LaunchOverrides(launchDisposition: .started)
        let update = LaunchConfigurationCheck.update(for: configuration, server: "s-3", overrides: other, repairEmpty: true)
        #expect(update?.launchDisposition == .started && update?.sourceServerID == "s-3")
    }
}
