package rag

// Stop lists for the languages added with their Snowball stemmers: the
// common function words (pronouns, articles, prepositions, conjunctions,
// auxiliaries) of each language, lowercased.
const (
	swedishStop = `och det att i en jag hon som han på den med var sig för så till är men ett om hade de av icke
		mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något från ut när efter
		upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller allt mycket sedan ju denna själv
		detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras blir mina samma vilken er sådan
		vår blivit dess inom mellan sådant varför varje vilka ditt vem vilket sitta sådana vart dina vars vårt
		våra ert era vilkas`
	danishStop = `og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi min
		havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev
		kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også under have dig
		anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange ad bliver hendes været
		thi jer sådan`
	norwegianStop = `og i jeg det at en et den til er som på de med han av ikke der så var meg seg men ett har om
		vi min mitt ha hadde hun nå over da ved fra du ut sin dem oss opp man kan hans hvor eller hva skal selv
		her alle vil bli ble blitt kunne inn når være kom noen noe ville dere deres kun ja etter ned skulle denne
		for deg si sine sitt mot å meget hvorfor dette disse uten hvordan ingen din ditt blir samme hvilken
		hvilke sånn inni mellom vår hver hvem hvis både bare enn fordi før mange også slik vært begge siden`
	finnishStop = `olla olen olet on olemme olette ovat ole oli olisi olisit olisin olisimme olisitte olisivat olit
		olin olimme olitte olivat ollut olleet en et ei emme ette eivät minä minun minut minua minussa minusta
		minuun minulla minulta minulle sinä sinun sinut sinua sinussa sinusta sinuun sinulla sinulta sinulle
		hän hänen hänet häntä hänessä hänestä häneen hänellä häneltä hänelle me meidän meidät meitä meissä
		meistä meihin meillä meiltä meille te teidän teidät teitä teissä teistä teihin teillä teiltä teille he
		heidän heidät heitä heissä heistä heihin heillä heiltä heille tämä tämän tätä tässä tästä tähän tällä
		tältä tälle tänä täksi tuo tuon tuota tuossa tuosta tuohon tuolla tuolta tuolle se sen sitä siinä siitä
		siihen sillä siltä sille sinä siksi nämä näiden näitä näissä näistä näihin näillä näiltä näille ne
		niiden niitä niissä niistä niihin niillä niiltä niille kuka kenen kenet ketä kenessä kenestä keneen
		kenellä keneltä kenelle mikä minkä mitä missä mistä mihin millä miltä mille joka jonka jota jossa josta
		johon jolla jolta jolle jotka joiden joita joissa joista joihin joilla joilta joille että ja jos koska
		kuin mutta niin sekä sillä tai vaan vai vaikka kanssa mukaan noin poikki yli kun nyt itse`
	russianStop = `и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
		было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас
		нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем
		была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем
		ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два
		об другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя впрочем
		хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между
		её ещё всё`
)
