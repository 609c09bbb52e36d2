import Foundation
import TernaryExperiments

exit(TernEvoCommandLine.main(Array(CommandLine.arguments.dropFirst())))
