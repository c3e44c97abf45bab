import Foundation
import MusterDRS

/// Builds the model's `SourceServer` from a seed entry.
enum SourceServerFactory {
    /// A DRS-shaped source server with sensible defaults for everything the seed leaves out.
    static func make(_ seed: SeedSourceServer, estate: EstateKey, addedAt: String, seededAt: Date? = nil) -> SimSourceServer {
        let hostname = seed.hostname ?? seed.sourceServerID
        let state = DataReplicationState(rawValue: seed.replicationState ?? DataReplicationState.continuous.rawValue)
        let server = SourceServer(
            sourceServerID: seed.sourceServerID,
            arn: estate.arn("source-server/\(seed.sourceServerID)"),
            tags: seed.tags ?? [:],
            lastLaunchResult: .notStarted,
            dataReplicationInfo: DataReplicationInfo(
                lagDuration: "PT0S",
                replicatedDisks: [
                    DataReplicationInfoReplicatedDisk(
                        deviceName: "/dev/sda", totalStorageBytes: 64 << 30, replicatedStorageBytes: 64 << 30,
                        rescannedStorageBytes: 0, backloggedStorageBytes: 0
                    ),
                ],
                dataReplicationState: state,
                stagingAvailabilityZone: "\(estate.region)a"
            ),
            lifeCycle: LifeCycle(addedToServiceDateTime: addedAt, firstByteDateTime: addedAt, lastSeenByServiceDateTime: addedAt),
            sourceProperties: SourceProperties(
                lastUpdatedDateTime: addedAt,
                recommendedInstanceType: seed.recommendedInstanceType ?? "m5.large",
                identificationHints: IdentificationHints(fqdn: seed.fqdn ?? hostname, hostname: hostname),
                disks: [Disk(deviceName: "/dev/sda", bytes: 64 << 30)],
                cpus: [CPU(cores: 2, modelName: "Intel(R) Xeon(R) CPU")],
                ramBytes: 8 << 30,
                os: OS(fullString: seed.os ?? "Linux version 5.10 (Amazon Linux 2)")
            ),
            stagingArea: StagingArea(status: .notExtended),
            replicationDirection: .failover,
            agentVersion: "4.5.0"
        )
        var launch = seed.launchConfiguration ?? LaunchConfiguration()
        launch.sourceServerID = seed.sourceServerID
        launch.name = launch.name ?? hostname
        launch.ec2LaunchTemplateID = launch.ec2LaunchTemplateID ?? "lt-\(String(seed.sourceServerID.dropFirst(2)))"
        launch.launchDisposition = launch.launchDisposition ?? .started
        launch.targetInstanceTypeRightSizingMethod = launch.targetInstanceTypeRightSizingMethod ?? .basic
        launch.copyPrivateIp = launch.copyPrivateIp ?? false
        launch.copyTags = launch.copyTags ?? true
        launch.licensing = launch.licensing ?? Licensing(osByol: true)
        launch.postLaunchEnabled = launch.postLaunchEnabled ?? true
        return SimSourceServer(
            server: server, launchConfiguration: launch, postLaunchActions: seed.postLaunchActions ?? [],
            lagSeconds: seed.lagSeconds ?? defaultLag(seed.sourceServerID), seededAt: seededAt)
    }

    /// A stable, realistic replication lag for a server the seed gives none: 5…45 s.
    static func defaultLag(_ serverID: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in serverID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return 5 + Double(hash % 401) / 10
    }

    /// The post-launch action a server runs when it enables post-launch actions but the seed names none.
    static let defaultPostLaunchAction = LaunchAction(
        actionId: "00000000-0000-4000-8000-000000000001",
        actionCode: "AWS-RunShellScript",
        type: .ssmCommand,
        name: "post-launch-validation",
        active: true,
        order: 2,
        actionVersion: "$DEFAULT",
        optional: true,
        description: "Validates the recovered instance",
        category: .validation
    )
}

/// Builds the model's `RecoveryInstance` for a launched server.
enum RecoveryInstanceFactory {
    static func make(
        instanceID: String, for source: SimSourceServer, job: SimJob, estate: EstateKey, snapshotTime: String,
        now: String, network: SimInstanceNetwork? = nil
    ) -> RecoveryInstance {
        let properties = source.server.sourceProperties
        var hints = properties?.identificationHints ?? IdentificationHints()
        hints.awsInstanceID = instanceID
        return RecoveryInstance(
            ec2InstanceID: instanceID,
            ec2InstanceState: .pending,
            jobID: job.id,
            recoveryInstanceID: instanceID,
            sourceServerID: source.id,
            arn: estate.arn("recovery-instance/\(instanceID)"),
            tags: source.launchConfiguration.copyTags == false ? [:] : (source.server.tags ?? [:]),
            recoveryInstanceProperties: RecoveryInstanceProperties(
                lastUpdatedDateTime: now,
                identificationHints: hints,
                networkInterfaces: network.map { network in
                    [NetworkInterface(macAddress: "02:00:00:\(instanceID.dropFirst(2).prefix(2)):00:01",
                                      ips: network.privateIP.map { [$0] } ?? [], isPrimary: true)]
                },
                disks: properties?.disks?.enumerated().map { index, disk in
                    RecoveryInstanceDisk(
                        internalDeviceName: disk.deviceName, bytes: disk.bytes,
                        ebsVolumeID: "vol-\(instanceID.dropFirst(2).prefix(8))\(String(format: "%09x", index))"
                    )
                },
                cpus: properties?.cpus,
                ramBytes: properties?.ramBytes,
                os: properties?.os
            ),
            pointInTimeSnapshotDateTime: snapshotTime,
            isDrill: job.isDrill,
            originEnvironment: .onPremises,
            originAvailabilityZone: source.server.dataReplicationInfo?.stagingAvailabilityZone,
            agentVersion: source.server.agentVersion
        )
    }
}
