import IntakeService
import SamenplanServer

await ServiceRuntime.main { try Intake.definition() }
