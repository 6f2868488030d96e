// `samenplan-services`: the five services in one executable, for the container image
// (docker/Dockerfile). Each service's own executable is exactly this switch's one line, so
// `intake` here is the `intake` of the package: the image links the shared code once instead
// of five times (233 MB instead of 322 MB) and calls this executable by the service's name
// (/app/intake → samenplan-services), or as `samenplan-services intake`.
import Foundation
import IntakeService
import NotificationsService
import PlanningService
import ReportingService
import SamenplanServer
import VolunteersService

let called = URL(fileURLWithPath: CommandLine.arguments.first ?? "").lastPathComponent
let name = called == "samenplan-services" && CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : called

ServiceRuntime.runTasksOnEventLoops()
switch name {
case "intake": await ServiceRuntime.main { try Intake.definition() }
case "planning": await ServiceRuntime.main { try Planning.definition() }
case "volunteers": await ServiceRuntime.main { try Volunteers.definition() }
case "notifications": await ServiceRuntime.main { try Notifications.definition() }
case "reporting": await ServiceRuntime.main { try Reporting.definition() }
default:
    FileHandle.standardError.write(Data(
        "samenplan-services: call me as intake, planning, volunteers, notifications or reporting (got \(name))\n".utf8))
    exit(64)
}
